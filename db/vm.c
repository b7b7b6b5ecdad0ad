/*
 * vm.c: writing definitions. Each change runs in one immediate transaction
 * that also checks the rules a definition must keep (unique name, --after
 * naming a defined VM, no dependency cycle) and records the audit event
 * (vm.defined, vm.changed, vm.removed) with the uid that made it, so bad
 * input changes nothing and every change leaves its trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* A VM in one of these has a process, or the daemon will start one. */
#define LIVE_STATES	"('starting', 'running', 'up', 'stopping', 'suspending')"
#define BUSY_STATES	"('waiting', 'backoff', 'blocked')"

/*
 * JSON array text of the strings, each quoted by SQLite's json_quote;
 * *out malloc'ed. One statement reused, the array grown in place: linear
 * in its length (json_insert on the whole array, once per string, made a
 * 60,000-argument command take most of a minute).
 */
static int
json_strv(struct db *db, const struct strv *sv, char **out)
{
	sqlite3_stmt *st;
	const char *q;
	char *acc, *more;
	size_t len = 1, cap = 256, want, n, i;
	int rc = SQLITE_OK;

	*out = NULL;
	if ((acc = malloc(cap)) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	acc[0] = '[';
	if ((st = db_prep(db, "SELECT json_quote(?)", "")) == NULL) {
		free(acc);
		return DB_ERR;
	}
	for (i = 0; i < sv->sv_n; i++) {
		sqlite3_reset(st);
		if ((rc = sqlite3_bind_text(st, 1, sv->sv_v[i], -1,
		    SQLITE_STATIC)) != SQLITE_OK ||
		    (rc = sqlite3_step(st)) != SQLITE_ROW ||
		    (q = (const char *)sqlite3_column_text(st, 0)) == NULL)
			break;
		n = strlen(q);
		if (len + n + 3 > cap) {
			for (want = cap * 2; len + n + 3 > want; want *= 2)
				;
			if ((more = realloc(acc, want)) == NULL)
				break;
			acc = more;
			cap = want;
		}
		if (i > 0)
			acc[len++] = ',';
		memcpy(acc + len, q, n);
		len += n;
	}
	if (i < sv->sv_n) {
		if (rc == SQLITE_ROW || rc == SQLITE_OK)
			db_fail(db, DB_ERR, "out of memory");
		else
			db_fail(db, DB_ERR, "quoting a string: %s",
			    sqlite3_errmsg(db->db_h));
		sqlite3_finalize(st);
		free(acc);
		return DB_ERR;
	}
	sqlite3_finalize(st);
	acc[len++] = ']';
	acc[len] = '\0';
	*out = acc;
	return DB_OK;
}

static int
json_codes(struct db *db, const struct vm_def *vd, char **out)
{
	char *acc, *next;
	int code;

	if ((acc = strdup("[]")) == NULL)
		return db_fail(db, DB_ERR, "out of memory");
	for (code = 0; code < 256; code++) {
		if (!vm_def_success(vd, code))
			continue;
		if (db_text(db, &next, "SELECT json_insert(?, '$[#]', ?)", "tn",
		    acc, code) != DB_OK) {
			free(acc);
			return DB_ERR;
		}
		free(acc);
		acc = next;
	}
	*out = acc;
	return DB_OK;
}

/* Refuse the change if the edges now stored hold a cycle, naming it. */
static int
check_cycle(struct db *db)
{
	struct db_graph g;
	int rc;

	if ((rc = db_graph_load(db, &g)) != DB_OK)
		return rc;
	rc = db_graph_cycle(db, &g);
	db_graph_free(&g);
	return rc;
}

/*
 * Write the audit event for a VM: {"uid": uid, key: json}, where key is
 * "changes" or "definition".
 */
static int
audit(struct db *db, const char *event, const char *name, long uid,
    const char *key, const char *json)
{
	char *detail;
	int rc;

	if (db_text(db, &detail, "SELECT json_object('uid', ?, ?, json(?))",
	    "itt", (int64_t)uid, key, json) != DB_OK)
		return DB_ERR;
	rc = db_event_add(db, event, name, uid, detail);
	free(detail);
	return rc;
}

/* Issue 12: the driver's columns, bound by name; an empty command is
 * NULL. */
static const char sql_driver[] =
    "UPDATE vm SET driver = :driver, pid_file = :pid_file, "
    "status_cmd = :status_cmd, status_interval_ms = :status_interval_ms, "
    "status_map = :status_map, stop_cmd = :stop_cmd, kill_cmd = :kill_cmd, "
    "suspend_cmd = :suspend_cmd, resume_cmd = :resume_cmd, "
    "cmd_timeout_ms = :cmd_timeout_ms WHERE id = :id";
/* The parameter of each command, by enum vm_cmd. */
static const char *const cmd_params[CMD_N] = {
	[CMD_STATUS] = ":status_cmd", [CMD_STOP] = ":stop_cmd",
	[CMD_KILL] = ":kill_cmd", [CMD_SUSPEND] = ":suspend_cmd",
	[CMD_RESUME] = ":resume_cmd",
};

static int
write_driver(struct db *db, int64_t id, const struct vm_def *vd)
{
	sqlite3_stmt *st;
	char *cmd[CMD_N] = { NULL }, *map = NULL;
	int i, rc = DB_ERR;

	for (i = 0; i < CMD_N; i++)
		if (vd->vd_cmd[i].sv_n > 0 &&
		    json_strv(db, &vd->vd_cmd[i], &cmd[i]) != DB_OK)
			goto done;
	if (json_strv(db, &vd->vd_status_map, &map) != DB_OK ||
	    (st = db_cached(db, sql_driver)) == NULL)
		goto done;
	db_bind_text(db, st, ":driver", vm_driver_name(vd->vd_driver));
	db_bind_text(db, st, ":pid_file", vd->vd_pid_file);
	db_bind_int(db, st, ":status_interval_ms", vd->vd_status_interval_ms);
	db_bind_text(db, st, ":status_map", map);
	db_bind_int(db, st, ":cmd_timeout_ms", vd->vd_cmd_timeout_ms);
	db_bind_int(db, st, ":id", id);
	for (i = 0; i < CMD_N; i++)
		db_bind_text(db, st, cmd_params[i], cmd[i]);
	rc = db_step_done(db, st);
done:
	for (i = 0; i < CMD_N; i++)
		free(cmd[i]);
	free(map);
	return rc;
}

struct vm_write {
	const struct vm_def	*w_vd;		/* what to store */
	long			 w_uid;		/* who asks */
	int			 w_update;	/* 0: add */
	int			 w_changed;	/* an update changed something */
};

static int
vm_write(struct db *db, void *arg)
{
	struct vm_write *w = arg;
	const struct vm_def *vd = w->w_vd;
	char *argv = NULL, *env = NULL, *codes = NULL, *before = NULL,
	    *after = NULL, *diff = NULL;
	int64_t id, dep, now = now_ms();
	size_t i;
	int rc;

	rc = db_vm_id(db, vd->vd_name, &id);
	if (rc == DB_OK && !w->w_update)
		return db_fail(db, DB_EXISTS, "%s: already defined",
		    vd->vd_name);
	if (rc == DB_ERR || (rc == DB_NOTFOUND && w->w_update))
		return rc;
	for (i = 0; i < vd->vd_after.sv_n; i++) {
		if (strcmp(vd->vd_after.sv_v[i], vd->vd_name) == 0)
			return db_fail(db, DB_REFUSED, "--after %s: a VM cannot "
			    "start after itself", vd->vd_name);
		rc = db_vm_id(db, vd->vd_after.sv_v[i], &dep);
		if (rc == DB_NOTFOUND)
			return db_fail(db, DB_NOTFOUND, "--after %s: no such VM",
			    vd->vd_after.sv_v[i]);
		if (rc != DB_OK)
			return DB_ERR;
	}
	if (w->w_update && db_def_json(db, id, &before) != DB_OK)
		return DB_ERR;
	rc = DB_ERR;
	if (json_strv(db, &vd->vd_argv, &argv) != DB_OK ||
	    json_strv(db, &vd->vd_env, &env) != DB_OK ||
	    json_codes(db, vd, &codes) != DB_OK)
		goto done;
	if (!w->w_update) {
		if (db_exec(db, "INSERT INTO vm (name, argv, created_at, "
		    "updated_at) VALUES (?, '[\"\"]', ?, ?)", "tii",
		    vd->vd_name, now, now) != DB_OK)
			goto done;
		id = sqlite3_last_insert_rowid(db->db_h);
		if (db_exec(db, "INSERT INTO vm_state (vm_id, state, "
		    "state_since) VALUES (?, ?, ?)", "iti", id,
		    vd->vd_enabled ? "stopped" : "disabled", now) != DB_OK)
			goto done;
	}
	if (db_exec(db, "UPDATE vm SET argv = ?, cwd = ?, env = ?, user = ?, "
	    "boot_order = ?, restart = ?, success_codes = ?, "
	    "wait_timeout_ms = ?, up_delay_ms = ?, ready_tcp = ?, "
	    "stop_signal = ?, suspend_signal = ?, stop_timeout_ms = ?, "
	    "backoff_initial_ms = ?, backoff_factor = ?, backoff_max_ms = ?, "
	    "backoff_reset_ms = ?, max_failures = ?, enabled = ?, "
	    "log_path = ?, updated_at = ? WHERE id = ?",
	    "ttttnttiitnniidiinntii",
	    argv, vd->vd_cwd, env, vd->vd_user, vd->vd_order,
	    value_restart_name(vd->vd_restart), codes,
	    vd->vd_wait_timeout_ms, vd->vd_up_delay_ms, vd->vd_ready_tcp,
	    vd->vd_stop_signal, vd->vd_suspend_signal, vd->vd_stop_timeout_ms,
	    vd->vd_backoff_initial_ms, vd->vd_backoff_factor,
	    vd->vd_backoff_max_ms, vd->vd_backoff_reset_ms,
	    vd->vd_max_failures, vd->vd_enabled, vd->vd_log_path, now,
	    id) != DB_OK)
		goto done;
	if (write_driver(db, id, vd) != DB_OK)
		goto done;
	if (db_exec(db, "UPDATE vm_state SET state = CASE "
	    "WHEN ?2 = 0 AND state = 'stopped' THEN 'disabled' "
	    "WHEN ?2 = 1 AND state = 'disabled' THEN 'stopped' "
	    "ELSE state END WHERE vm_id = ?1", "in", id,
	    vd->vd_enabled) != DB_OK ||
	    db_exec(db, "DELETE FROM vm_after WHERE vm_id = ?", "i", id) !=
	    DB_OK ||
	    db_exec(db, "DELETE FROM vm_gate WHERE vm_id = ?", "i", id) !=
	    DB_OK)
		goto done;
	for (i = 0; i < vd->vd_after.sv_n; i++)
		if (db_exec(db, "INSERT OR IGNORE INTO vm_after (vm_id, "
		    "after_id) SELECT ?, id FROM vm WHERE name = ?", "it", id,
		    vd->vd_after.sv_v[i]) != DB_OK)
			goto done;
	for (i = 0; i < vd->vd_ngates; i++)
		if (db_exec(db, "INSERT INTO vm_gate (vm_id, pos, kind, arg) "
		    "VALUES (?, ?, ?, ?)", "intt", id, (int)i,
		    value_gate_name(vd->vd_gates[i].g_kind),
		    vd->vd_gates[i].g_arg) != DB_OK)
			goto done;
	if (w->w_update && (rc = check_cycle(db)) != DB_OK)
		goto done;
	rc = DB_ERR;
	if (db_def_json(db, id, &after) != DB_OK)
		goto done;
	if (w->w_update) {
		/* What changed, key by key: {"order": {"from": 100, "to": 5}}
		 * (json_each gives booleans as 1/0: keep them booleans). */
		if (db_text(db, &diff, "SELECT json_group_object(n.key, "
		    "json_object("
		    "'from', iif(o.type IN ('true', 'false'), json(o.type), "
		    "    o.value), "
		    "'to', iif(n.type IN ('true', 'false'), json(n.type), "
		    "    n.value))) "
		    "FROM json_each(?2) n LEFT JOIN json_each(?1) o "
		    "ON o.key = n.key WHERE o.value IS NOT n.value "
		    "AND n.key <> 'updated_at'", "tt", before, after) != DB_OK)
			goto done;
		w->w_changed = strcmp(diff, "{}") != 0;
		rc = w->w_changed ? audit(db, "vm.changed", vd->vd_name,
		    w->w_uid, "changes", diff) : DB_OK;
	} else
		rc = audit(db, "vm.defined", vd->vd_name, w->w_uid,
		    "definition", after);
done:
	free(argv);
	free(env);
	free(codes);
	free(before);
	free(after);
	free(diff);
	return rc;
}

int
db_vm_write(struct db *db, const struct vm_def *vd, int update, long uid,
    int *changed)
{
	struct vm_write w = { vd, uid, update, 0 };
	int rc;

	rc = vm_write(db, &w);
	if (changed)
		*changed = rc == DB_OK && w.w_changed;
	return rc;
}

int
db_vm_add(struct db *db, const struct vm_def *vd, long uid)
{
	struct vm_write w = { vd, uid, 0, 0 };

	return db_tx(db, vm_write, &w);
}

struct vm_edit {
	const char	*e_name;
	db_edit_fn	 e_fn;
	void		*e_arg;
	long		 e_uid;
	int		 e_changed;
};

/* Read, edit and write back in one transaction, so edits never race. */
static int
vm_edit(struct db *db, void *arg)
{
	struct vm_edit *e = arg;
	struct vm_def vd;
	struct vm_write w = { &vd, e->e_uid, 1, 0 };
	int rc;

	vm_def_init(&vd);
	if ((rc = db_vm_get(db, e->e_name, &vd)) == DB_OK &&
	    (rc = e->e_fn(&vd, e->e_arg, db->db_err, sizeof(db->db_err))) ==
	    DB_OK)
		rc = vm_write(db, &w);
	e->e_changed = w.w_changed;
	vm_def_free(&vd);
	return rc;
}

int
db_vm_update(struct db *db, const char *name, db_edit_fn fn, void *arg,
    long uid, int *changed)
{
	struct vm_edit e = { name, fn, arg, uid, 0 };
	int rc;

	rc = db_tx(db, vm_edit, &e);
	if (changed)
		*changed = rc == DB_OK && e.e_changed;
	return rc;
}

/*
 * One statement for a whole definition, kept prepared: the daemon loads
 * one at every start. Lists come joined by NUL bytes (no string of a
 * definition holds one), gates as kind, arg, kind, arg ...
 */
static const char sql_def[] =
    "SELECT v.cwd, v.user, v.boot_order, v.restart, v.wait_timeout_ms, "
    "v.up_delay_ms, v.ready_tcp, v.stop_signal, v.suspend_signal, "
    "v.stop_timeout_ms, v.backoff_initial_ms, v.backoff_factor, "
    "v.backoff_max_ms, v.backoff_reset_ms, v.max_failures, v.enabled, "
    "v.log_path, "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.argv)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.env)), "
    "(SELECT group_concat(name, char(0)) FROM (SELECT a.name FROM "
    "    vm_after e JOIN vm a ON a.id = e.after_id WHERE e.vm_id = v.id "
    "    ORDER BY a.name)), "
    "(SELECT group_concat(kind || char(0) || arg, char(0)) FROM (SELECT "
    "    kind, arg FROM vm_gate WHERE vm_id = v.id ORDER BY pos)), "
    "(SELECT group_concat(value) FROM json_each(v.success_codes)), "
    "v.driver, v.pid_file, v.status_interval_ms, v.cmd_timeout_ms, "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.status_map)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.status_cmd)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.stop_cmd)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.kill_cmd)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.suspend_cmd)), "
    "(SELECT group_concat(value, char(0)) FROM json_each(v.resume_cmd)) "
    "FROM vm v WHERE v.name = :name";
/* Where sql_def's issue 12 columns are. */
enum { DEF_DRIVER = 22, DEF_PID_FILE, DEF_INTERVAL, DEF_TIMEOUT, DEF_MAP,
    DEF_CMD };

/* The NUL-joined strings of column i, each passed to fn; -1 on ENOMEM. */
static int
each_joined(sqlite3_stmt *st, int i, int (*fn)(void *, const char *),
    void *arg)
{
	const char *p = (const char *)sqlite3_column_text(st, i);
	const char *end = p + sqlite3_column_bytes(st, i);

	for (; p != NULL && p < end; p += strlen(p) + 1)
		if (fn(arg, p) == -1)
			return -1;
	return 0;
}

static int
push(void *sv, const char *s)
{
	return strv_push(sv, s);
}

struct gate_pair {
	struct vm_def	*gp_vd;
	const char	*gp_kind;	/* the kind read, waiting for its arg */
};

static int
push_gate(void *arg, const char *s)
{
	struct gate_pair *gp = arg;
	enum gate_kind k;

	if (gp->gp_kind == NULL) {
		gp->gp_kind = s;
		return 0;
	}
	k = strcmp(gp->gp_kind, "path") == 0 ? GATE_PATH :
	    strcmp(gp->gp_kind, "cmd") == 0 ? GATE_CMD : GATE_TCP;
	gp->gp_kind = NULL;
	return vm_def_add_gate(gp->gp_vd, k, s);
}

static char *
col_dup(sqlite3_stmt *st, int i, int *oom)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*oom = 1;
	return d;
}

int
db_vm_get(struct db *db, const char *name, struct vm_def *vd)
{
	struct gate_pair gp = { vd, NULL };
	sqlite3_stmt *st;
	const char *s, *why;
	char *end;
	long code;
	int rc, i, oom = 0;

	if ((st = db_cached(db, sql_def)) == NULL)
		return DB_ERR;
	db_bind_text(db, st, ":name", name);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return db_fail(db, DB_NOTFOUND, "%s: no such VM", name);
		return db_fail(db, DB_ERR, "reading %s: %s", name,
		    sqlite3_errmsg(db->db_h));
	}
	snprintf(vd->vd_name, sizeof(vd->vd_name), "%s", name);
	vd->vd_cwd = col_dup(st, 0, &oom);
	vd->vd_user = col_dup(st, 1, &oom);
	vd->vd_order = sqlite3_column_int(st, 2);
	if (value_restart((const char *)sqlite3_column_text(st, 3),
	    &vd->vd_restart, &why) == -1)
		vd->vd_restart = RESTART_ON_FAILURE;
	vd->vd_wait_timeout_ms = sqlite3_column_int64(st, 4);
	vd->vd_up_delay_ms = sqlite3_column_int64(st, 5);
	vd->vd_ready_tcp = col_dup(st, 6, &oom);
	vd->vd_stop_signal = sqlite3_column_int(st, 7);
	vd->vd_suspend_signal = sqlite3_column_int(st, 8);
	vd->vd_stop_timeout_ms = sqlite3_column_int64(st, 9);
	vd->vd_backoff_initial_ms = sqlite3_column_int64(st, 10);
	vd->vd_backoff_factor = sqlite3_column_double(st, 11);
	vd->vd_backoff_max_ms = sqlite3_column_int64(st, 12);
	vd->vd_backoff_reset_ms = sqlite3_column_int64(st, 13);
	vd->vd_max_failures = sqlite3_column_int(st, 14);
	vd->vd_enabled = sqlite3_column_int(st, 15);
	vd->vd_log_path = col_dup(st, 16, &oom);
	if (each_joined(st, 17, push, &vd->vd_argv) == -1 ||
	    each_joined(st, 18, push, &vd->vd_env) == -1 ||
	    each_joined(st, 19, push, &vd->vd_after) == -1 ||
	    each_joined(st, 20, push_gate, &gp) == -1)
		oom = 1;
	if (vm_driver_parse((const char *)sqlite3_column_text(st, DEF_DRIVER) ?
	    (const char *)sqlite3_column_text(st, DEF_DRIVER) : "exec",
	    &vd->vd_driver) == -1)
		vd->vd_driver = DRV_EXEC;
	vd->vd_pid_file = col_dup(st, DEF_PID_FILE, &oom);
	vd->vd_status_interval_ms = sqlite3_column_int64(st, DEF_INTERVAL);
	vd->vd_cmd_timeout_ms = sqlite3_column_int64(st, DEF_TIMEOUT);
	if (each_joined(st, DEF_MAP, push, &vd->vd_status_map) == -1)
		oom = 1;
	for (i = 0; i < CMD_N; i++)
		if (each_joined(st, DEF_CMD + i, push, &vd->vd_cmd[i]) == -1)
			oom = 1;
	memset(vd->vd_success, 0, sizeof(vd->vd_success));
	for (s = (const char *)sqlite3_column_text(st, 21); s != NULL &&
	    *s != '\0'; s = *end == ',' ? end + 1 : end) {
		code = strtol(s, &end, 10) & 0xff;
		if (end == s)
			break;
		vd->vd_success[code / 8] |= (unsigned char)(1u << (code % 8));
	}
	sqlite3_reset(st);
	if (oom)
		return db_fail(db, DB_ERR, "reading %s: %s", name,
		    strerror(ENOMEM));
	return DB_OK;
}

struct vm_remove {
	const char	*r_name;
	long		 r_uid;
};

static int
vm_remove(struct db *db, void *arg)
{
	struct vm_remove *r = arg;
	char *def = NULL, *deps = NULL, *busy = NULL;
	int64_t id, live;
	int rc;

	if ((rc = db_vm_id(db, r->r_name, &id)) != DB_OK)
		return rc;
	if (db_text(db, &deps, "SELECT group_concat(v.name, ', ') FROM "
	    "vm_after e JOIN vm v ON v.id = e.vm_id WHERE e.after_id = ?",
	    "i", id) != DB_OK)
		return DB_ERR;
	if (deps != NULL) {
		rc = db_fail(db, DB_REFUSED, "%s: %s start%s --after it; change "
		    "that first", r->r_name, deps, strchr(deps, ',') ? "" : "s");
		free(deps);
		return rc;
	}
	if (db_int(db, &live, "SELECT count(*) FROM vm_state WHERE vm_id = ? "
	    "AND state IN " LIVE_STATES, "i", id) != DB_OK)
		return DB_ERR;
	if (live)
		return db_fail(db, DB_LIVE, "%s: is running; stop it first "
		    "or use --force", r->r_name);
	/* Not running yet, but the daemon means to start it. */
	if (db_text(db, &busy, "SELECT state FROM vm_state WHERE vm_id = ? "
	    "AND state IN " BUSY_STATES, "i", id) == DB_ERR)
		return DB_ERR;
	if (busy != NULL) {
		rc = db_fail(db, DB_LIVE, "%s: is %s, to be started; stop it "
		    "first or use --force", r->r_name, busy);
		free(busy);
		return rc;
	}
	if (db_def_json(db, id, &def) != DB_OK)
		return DB_ERR;
	rc = db_exec(db, "DELETE FROM vm WHERE id = ?", "i", id);
	if (rc == DB_OK)
		rc = audit(db, "vm.removed", r->r_name, r->r_uid, "definition",
		    def);
	free(def);
	return rc;
}

int
db_vm_remove(struct db *db, const char *name, long uid)
{
	struct vm_remove r = { name, uid };

	return db_tx(db, vm_remove, &r);
}

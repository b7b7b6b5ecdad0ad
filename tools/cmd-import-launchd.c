/*
 * cmd-import-launchd.c: vmsched import-launchd FILE... [--dry-run]
 * [--replace] turns launchd jobs (XML or binary plists) into definitions.
 * Every file is read and mapped first (sched/launchd.c decides what each
 * key becomes), its warnings printed as "vmsched: FILE: ...", and only if
 * all of them map are they stored, in one transaction: a bad file, or a
 * name already defined without --replace, changes nothing. --dry-run
 * prints the `vmsched add` line each file would become and stops there.
 *
 * Issue 12: a job that runs a hypervisor's own start (vmware-vmx -x,
 * vmrun start, VBoxManage startvm, VBoxHeadless, virsh start) becomes
 * that hypervisor's shortcut (shortcuts.c), which it says; its add line
 * has the shortcut (--vmware X.vmx --vmrun ...) instead of a command.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { O_DRY_RUN = 256, O_REPLACE };

#define SC_LINE_MAX	(PATH_MAX * 4)	/* a shortcut's add options */

static const struct cli_opt import_opts[] = {
	{ "dry-run", O_DRY_RUN, CV_NONE, NULL, NULL, NULL, 0 },
	{ "replace", O_REPLACE, CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

struct import_opts {
	int	io_dry_run;
	int	io_replace;
};

static int
import_opt(int opt, const char *arg, void *p)
{
	struct import_opts *io = p;

	(void)arg;
	if (opt == O_DRY_RUN)
		io->io_dry_run = 1;
	else if (opt == O_REPLACE)
		io->io_replace = 1;
	return 0;
}

/* A growing string for the dry-run line. */
struct line {
	char	*l_s;
	size_t	 l_len;
	size_t	 l_cap;
	int	 l_oom;
};

static void
line_add(struct line *l, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if (l->l_oom)
		return;
	if (l->l_len + n + 1 > l->l_cap) {
		l->l_cap = (l->l_len + n + 1) * 2;
		if ((p = realloc(l->l_s, l->l_cap)) == NULL) {
			l->l_oom = 1;
			return;
		}
		l->l_s = p;
	}
	memcpy(l->l_s + l->l_len, s, n + 1);
	l->l_len += n;
}

/* " WORD", shell-quoted. */
static void
line_word(struct line *l, const char *s)
{
	size_t len = strlen(s) * 4 + 8;
	char *q;

	if ((q = malloc(len)) == NULL) {
		l->l_oom = 1;
		return;
	}
	q[0] = '\0';
	cli_quote(s, q, len);
	line_add(l, " ");
	line_add(l, q);
	free(q);
}

/* " --opt VALUE" */
static void
line_opt(struct line *l, const char *opt, const char *value)
{
	line_add(l, " ");
	line_add(l, opt);
	if (value != NULL)
		line_word(l, value);
}

/* " --opt 30s": a duration add reads back exactly. */
static void
line_ms(struct line *l, const char *opt, int64_t ms)
{
	char buf[32];

	if (ms % 1000 == 0)
		snprintf(buf, sizeof(buf), "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, sizeof(buf), "%lldms", (long long)ms);
	line_opt(l, opt, buf);
}

/*
 * The `vmsched add` command that defines vd: the options that differ from
 * the defaults, then -- and the command, or the shortcut's options that
 * make it (sc, not empty). Malloc'ed, or NULL (ENOMEM).
 */
static char *
add_line(const struct vm_def *vd, const char *sc)
{
	static const char *const gate_opt[] = {
		[GATE_PATH] = "--wait-path",
		[GATE_CMD] = "--wait-cmd",
		[GATE_TCP] = "--wait-tcp",
	};
	struct vm_def def;
	struct line l = { NULL, 0, 0, 0 };
	size_t i;

	vm_def_init(&def);
	line_add(&l, "vmsched add");
	line_word(&l, vd->vd_name);
	if (!vd->vd_enabled)
		line_opt(&l, "--disabled", NULL);
	if (vd->vd_restart != def.vd_restart)
		line_opt(&l, "--restart", value_restart_name(vd->vd_restart));
	if (vd->vd_user != NULL)
		line_opt(&l, "--user", vd->vd_user);
	if (vd->vd_cwd != NULL)
		line_opt(&l, "--cwd", vd->vd_cwd);
	for (i = 0; i < vd->vd_env.sv_n; i++)
		line_opt(&l, "--env", vd->vd_env.sv_v[i]);
	for (i = 0; i < vd->vd_ngates; i++)
		line_opt(&l, gate_opt[vd->vd_gates[i].g_kind],
		    vd->vd_gates[i].g_arg);
	if (vd->vd_stop_timeout_ms != def.vd_stop_timeout_ms)
		line_ms(&l, "--stop-timeout", vd->vd_stop_timeout_ms);
	if (vd->vd_backoff_initial_ms != def.vd_backoff_initial_ms)
		line_ms(&l, "--backoff-initial", vd->vd_backoff_initial_ms);
	if (vd->vd_backoff_max_ms != def.vd_backoff_max_ms)
		line_ms(&l, "--backoff-max", vd->vd_backoff_max_ms);
	if (vd->vd_log_path != NULL)
		line_opt(&l, "--log-file", vd->vd_log_path);
	if (sc[0] != '\0') {
		line_add(&l, " ");
		line_add(&l, sc);
	} else {
		line_add(&l, " --");
		for (i = 0; i < vd->vd_argv.sv_n; i++)
			line_word(&l, vd->vd_argv.sv_v[i]);
	}
	if (l.l_oom) {
		free(l.l_s);
		return NULL;
	}
	return l.l_s;
}

/*
 * The whole file into *buf (malloc'ed), or its first LAUNCHD_SIZE_MAX + 1
 * bytes if it is longer, which launchd_to_def then refuses as too large;
 * 0, or the exit code after why.
 */
static int
slurp(const char *path, char **buf, size_t *len)
{
	FILE *fp;
	char *b = NULL, *nb;
	size_t n = 0, cap = 0, got;
	int rc = 0;

	*buf = NULL;
	if ((fp = fopen(path, "rb")) == NULL)
		return cli_err(EX_NOINPUT, "%s: %s", path, strerror(errno));
	while (n <= LAUNCHD_SIZE_MAX) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > LAUNCHD_SIZE_MAX + 1)
				cap = LAUNCHD_SIZE_MAX + 1;
			if ((nb = realloc(b, cap)) == NULL) {
				rc = cli_err(EX_OSERR, "%s: %s", path,
				    strerror(errno));
				break;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp))
				rc = cli_err(EX_NOINPUT, "%s: %s", path,
				    strerror(errno));
			break;
		}
	}
	fclose(fp);
	if (rc != 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

/*
 * Read and map one file into vd, printing its warnings, and a hypervisor's
 * start to its shortcut (its add options into sc); 0, or the exit code
 * after printing why.
 */
static int
map_file(const char *path, struct vm_def *vd, char *sc, size_t sclen)
{
	struct strv warn = { NULL, 0 };
	char *buf, err[512];
	size_t len = 0, i;
	int rc;

	if ((rc = slurp(path, &buf, &len)) != 0)
		return rc;
	rc = launchd_to_def(buf, len, vd, &warn, err, sizeof(err));
	free(buf);
	if (rc == -1) {
		rc = cli_err(errno == ENOMEM ? EX_OSERR : EX_DATAERR, "%s: %s",
		    path, err);
		goto done;
	}
	for (i = 0; i < warn.sv_n; i++)
		cli_err(0, "%s: %s", path, warn.sv_v[i]);
	if (vd->vd_user != NULL) {
		errno = 0;
		if (getpwnam(vd->vd_user) == NULL)
			cli_err(0, "%s: UserName %s: %s on this host; the VM "
			    "cannot start until there is one", path,
			    vd->vd_user, errno ? strerror(errno) :
			    "no such user");
	}
	if ((rc = shortcuts_import(path, vd, sc, sclen)) == 1)
		rc = 0;
done:
	strv_clear(&warn);
	return rc;
}

/* Put "file: " before the message in buf, if it fits. */
static void
prefix(char *buf, size_t size, const char *file)
{
	size_t fl = strlen(file), ml = strlen(buf);

	if (fl + 2 + ml >= size)
		return;
	memmove(buf + fl + 2, buf, ml + 1);
	memcpy(buf, file, fl);
	memcpy(buf + fl, ": ", 2);
}

static int
import_launchd(struct cli *cli, const struct cmd *self, int argc,
    char **argv)
{
	struct import_opts io = { 0, 0 };
	struct vm_def *vds = NULL;
	enum db_import_how *how = NULL;
	char (*sc)[SC_LINE_MAX] = NULL;
	const char **files = NULL;
	size_t n = 0, i, k, failed;
	char *line, shown[PATH_MAX * 4];
	int rc, first, dashdash, pos, bad = 0;

	/* Options may come before, between or after the files. */
	if ((files = calloc((size_t)argc, sizeof(*files))) == NULL)
		return cli_err(EX_OSERR, "import-launchd: %s",
		    strerror(errno));
	for (pos = 0;;) {
		if ((rc = cli_getopt(self, NULL, argc - pos, argv + pos,
		    import_opt, &io, &first, &dashdash)) != 0)
			goto done;
		pos += first;
		if (dashdash) {
			while (pos < argc)
				files[n++] = argv[pos++];
			break;
		}
		if (pos >= argc)
			break;
		files[n++] = argv[pos];
	}
	if (n == 0) {
		cli_err(0, "import-launchd: no plist given");
		rc = cli_usage(self);
		goto done;
	}
	vds = calloc(n, sizeof(*vds));
	how = calloc(n, sizeof(*how));
	sc = calloc(n, sizeof(*sc));
	if (vds == NULL || how == NULL || sc == NULL) {
		rc = cli_err(EX_OSERR, "import-launchd: %s",
		    strerror(errno));
		goto done;
	}
	for (i = 0; i < n; i++)
		vm_def_init(&vds[i]);

	/* Map every file, reporting each bad one, before touching anything. */
	for (i = 0; i < n; i++) {
		if ((rc = map_file(files[i], &vds[i], sc[i],
		    sizeof(sc[i]))) != 0) {
			/* Not a name to compare with the others. */
			vds[i].vd_name[0] = '\0';
			if (bad == 0)
				bad = rc;
			continue;
		}
		for (k = 0; k < i; k++)
			if (vds[k].vd_name[0] != '\0' &&
			    strcmp(vds[k].vd_name, vds[i].vd_name) == 0)
				break;
		if (k < i && bad == 0)
			bad = cli_err(EX_USAGE, "%s: becomes the VM %s, as %s "
			    "does; import them one at a time", files[i],
			    vds[i].vd_name, files[k]);
		else if (k < i)
			cli_err(0, "%s: becomes the VM %s, as %s does",
			    files[i], vds[i].vd_name, files[k]);
	}
	if ((rc = bad) != 0) {
		cli_err(0, "import-launchd: nothing imported");
		goto done;
	}

	if (io.io_dry_run) {
		for (i = 0; i < n; i++) {
			if ((line = add_line(&vds[i], sc[i])) == NULL) {
				rc = cli_err(EX_OSERR, "import-launchd: "
				    "%s", strerror(ENOMEM));
				goto done;
			}
			printf("%s\n", line);
			free(line);
		}
		goto done;
	}

	if ((rc = cli_open(cli)) != 0)
		goto done;
	rc = db_vm_import(&cli->c_db, vds, n, io.io_replace, cli->c_uid, how,
	    &failed);
	if (rc != DB_OK) {
		if (failed < n)
			prefix(cli->c_db.db_err, sizeof(cli->c_db.db_err),
			    files[failed]);
		rc = cli_dberr(cli, rc);
		cli_err(0, "import-launchd: nothing imported");
		goto done;
	}
	for (i = 0; i < n; i++)
		printf("%s %s from %s\n", how[i] == DB_IMPORT_ADDED ? "added" :
		    how[i] == DB_IMPORT_CHANGED ? "replaced" : "unchanged",
		    vds[i].vd_name, text_shown(files[i], shown, sizeof(shown)));
	rc = 0;
done:
	for (i = 0; vds != NULL && i < n; i++)
		vm_def_free(&vds[i]);
	free(vds);
	free(how);
	free(sc);
	free(files);
	return rc;
}

const struct cmd cmd_import_launchd = {
	"import-launchd", "FILE... [--dry-run] [--replace]",
	"turn launchd plists (XML or binary) into definitions",
	1, -1, import_launchd, .cmd_opts = import_opts,
	.cmd_operand = CV_FILE,
};

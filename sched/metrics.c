/*
 * metrics.c: vmsched's figures in the Prometheus text exposition format,
 * named after node_exporter's systemd collector: a one-hot state per VM
 * over every state, restarts, consecutive failures, the start of the
 * current run, whether it is up; events pending and failed; whether the
 * daemon runs and since when. metrics_print is the one writer of that
 * text: `vmsched metrics` sends it to stdout, and metrics_write into a
 * file for node_exporter's textfile collector, written beside it and
 * renamed over it so a reader never sees half a file.
 *
 * The daemon keeps the file current with metrics_tick after each turn of
 * its loop: a rewrite when the database has changed (db_change_stamp) but
 * at most once per METRICS_MIN_MS, and once per METRICS_REFRESH_MS in any
 * case so the file's age tells whether the daemon is alive;
 * metrics_timeout shortens the loop's poll so a change held back by the
 * rate limit is written when the limit allows. When metrics_done writes
 * the last file, vmsched_daemon_up is 0.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"
#include "db.h"

/* The states of DESIGN.md (vm_state.state's CHECK in 0001_initial.sql). */
const char *const metrics_states[] = {
	"disabled", "stopped", "waiting", "starting", "running", "up",
	"backoff", "failed", "blocked", "stopping", "suspending", "suspended",
	NULL,
};

/* One family's HELP and TYPE lines. */
static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the exposition format escapes it. */
static void
label(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(fp, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* Unix ms as seconds with their milliseconds: "1764583200.123". */
static void
seconds(FILE *fp, int64_t ms)
{
	if (ms <= 0)
		fputs("0", fp);
	else
		fprintf(fp, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
}

/* vmsched_vm_* NAME{vm="..."} for each VM: which figure, by what. */
enum vm_figure { VF_UP, VF_RESTARTS, VF_FAILURES, VF_START };

static void
per_vm(FILE *fp, const struct db_metrics *m, const char *name,
    enum vm_figure f)
{
	const struct db_metrics_vm *v;
	size_t i;

	for (i = 0; i < m->dm_nvms; i++) {
		v = &m->dm_vms[i];
		fprintf(fp, "%s{vm=\"", name);
		label(fp, v->mv_name);
		fputs("\"} ", fp);
		switch (f) {
		case VF_UP:
			fputs(strcmp(v->mv_state, "up") == 0 ? "1" : "0", fp);
			break;
		case VF_RESTARTS:
			fprintf(fp, "%lld", (long long)v->mv_restarts);
			break;
		case VF_FAILURES:
			fprintf(fp, "%lld", (long long)v->mv_failures);
			break;
		case VF_START:
			seconds(fp, v->mv_started_at);
			break;
		}
		fputc('\n', fp);
	}
}

void
metrics_format(const struct db_metrics *m, int daemon_up, FILE *fp)
{
	const struct db_metrics_vm *v;
	size_t i, k;

	family(fp, "vmsched_daemon_up", "gauge",
	    "Whether a vmsched daemon runs on this database (1) or not (0).");
	fprintf(fp, "vmsched_daemon_up %d\n", daemon_up ? 1 : 0);
	family(fp, "vmsched_daemon_start_time_seconds", "gauge",
	    "When the daemon last started, in Unix seconds (0: never).");
	fputs("vmsched_daemon_start_time_seconds ", fp);
	seconds(fp, m->dm_daemon_started_at);
	fputc('\n', fp);
	family(fp, "vmsched_events_pending", "gauge",
	    "Events waiting to be delivered to the webhook.");
	fprintf(fp, "vmsched_events_pending %lld\n",
	    (long long)m->dm_events_pending);
	family(fp, "vmsched_events_failed_total", "counter",
	    "Events whose webhook delivery was given up (vmsched events "
	    "--failed).");
	fprintf(fp, "vmsched_events_failed_total %lld\n",
	    (long long)m->dm_events_failed);
	family(fp, "vmsched_vm_state", "gauge",
	    "The VM's state: 1 for the state it is in, 0 for every other.");
	for (i = 0; i < m->dm_nvms; i++) {
		v = &m->dm_vms[i];
		for (k = 0; metrics_states[k] != NULL; k++) {
			fputs("vmsched_vm_state{vm=\"", fp);
			label(fp, v->mv_name);
			fprintf(fp, "\",state=\"%s\"} %d\n", metrics_states[k],
			    strcmp(v->mv_state, metrics_states[k]) == 0);
		}
	}
	family(fp, "vmsched_vm_up", "gauge",
	    "Whether the VM is up: running for its up-delay, and ready.");
	per_vm(fp, m, "vmsched_vm_up", VF_UP);
	family(fp, "vmsched_vm_restarts_total", "counter",
	    "Restarts of the VM since it was defined.");
	per_vm(fp, m, "vmsched_vm_restarts_total", VF_RESTARTS);
	family(fp, "vmsched_vm_failures", "gauge",
	    "Consecutive failures of the VM (max-failures of them: failed).");
	per_vm(fp, m, "vmsched_vm_failures", VF_FAILURES);
	family(fp, "vmsched_vm_start_time_seconds", "gauge",
	    "When the VM's current run started, in Unix seconds (0: no "
	    "process).");
	per_vm(fp, m, "vmsched_vm_start_time_seconds", VF_START);
}

int
metrics_print(struct db *db, int daemon_up, FILE *fp)
{
	struct db_metrics m;

	if (db_metrics(db, &m) != DB_OK)
		return -1;
	metrics_format(&m, daemon_up, fp);
	db_metrics_free(&m);
	return 0;
}

int
metrics_write(struct db *db, const char *path, int daemon_up, char *why,
    size_t len)
{
	char tmp[PATH_MAX];
	FILE *fp = NULL;
	int fd = -1, n;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(why, len, "%s: path too long", path);
		return -1;
	}
	/* A new name of our own beside it (O_EXCL: no one's symlink). */
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (metrics_print(db, daemon_up, fp) == -1) {
		snprintf(why, len, "%s", db->db_err);
		goto fail;
	}
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fclose(fp) == EOF) {
		fp = NULL;
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, path) == -1) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fp != NULL)
		fclose(fp);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

int64_t
metrics_due(int64_t last, int64_t now, int changed)
{
	int64_t at;

	if (last == 0)
		return now;			/* never written */
	at = last + (changed ? METRICS_MIN_MS : METRICS_REFRESH_MS);
	return at;
}

void
metrics_file_init(struct metrics_file *mf, const char *path)
{
	memset(mf, 0, sizeof(*mf));
	mf->mf_path = path;
	mf->mf_stamp = -1;
}

/* Write the file now, and say so only when that changes. */
static void
write_now(struct metrics_file *mf, struct db *db, int daemon_up, int64_t now)
{
	char why[PATH_MAX + 256];

	mf->mf_last = now;
	if (metrics_write(db, mf->mf_path, daemon_up, why, sizeof(why)) ==
	    0) {
		if (mf->mf_failing)
			log_info("metrics: writing %s again", mf->mf_path);
		mf->mf_failing = 0;
	} else if (!mf->mf_failing) {
		log_warnx("metrics: %s (tried again on the next change)", why);
		mf->mf_failing = 1;
	}
}

void
metrics_tick(struct metrics_file *mf, struct db *db)
{
	int64_t now = mono_ms(), stamp;

	if (mf->mf_path == NULL)
		return;
	if (db_change_stamp(db, &stamp) != DB_OK)
		stamp = mf->mf_stamp + 1;	/* cannot tell: assume so */
	if (stamp != mf->mf_stamp)
		mf->mf_changed = 1;
	if (now < metrics_due(mf->mf_last, now, mf->mf_changed))
		return;
	write_now(mf, db, 1, now);
	/* the stamp from before the write: a commit during it is a change */
	mf->mf_stamp = stamp;
	mf->mf_changed = 0;
}

int
metrics_timeout(const struct metrics_file *mf, int timeout_ms)
{
	int64_t now, at;

	if (mf->mf_path == NULL)
		return timeout_ms;
	now = mono_ms();
	at = metrics_due(mf->mf_last, now, mf->mf_changed);
	if (at <= now)
		return 0;
	if (timeout_ms >= 0 && at - now >= timeout_ms)
		return timeout_ms;
	return (int)(at - now);
}

void
metrics_done(struct metrics_file *mf, struct db *db)
{
	if (mf->mf_path != NULL)
		write_now(mf, db, 0, mono_ms());
}

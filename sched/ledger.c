/*
 * ledger.c: the spawns the store has not taken yet. A pass spawns first
 * and commits after (journal.c), so a daemon killed in between leaves
 * processes that no run row names. One that still runs is found by its
 * environment (proc_scan); one that ended before the next daemon came
 * would leave no trace at all. So each spawn is first appended here, to
 * DB.spawns beside the database, as one line "pid start wall boot name": a
 * write(2), which a killed process cannot lose (only the host's crash,
 * which takes the VMs with it, could). Once a pass's changes are in the
 * store the file is emptied. The next daemon reads what is left: each
 * process that ended unrecorded gets its run, opened and closed as ended
 * while no daemon watched, with the policy deciding what follows, as for
 * a recorded run that ended unwatched.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched.h"
#include "db.h"

#define LEDGER_MAX	(1 << 20)	/* what a daemon may have left */

int
ledger_open(struct sched *s)
{
	char path[PATH_MAX];
	struct stat sb;

	s->s_ledger_dirty = 0;
	if (snprintf(path, sizeof(path), "%s.spawns", s->s_dbpath) >=
	    (int)sizeof(path)) {
		log_warnx("%s: path too long", s->s_dbpath);
		return -1;
	}
	/* In the database's directory, which is checked as the database
	 * is: only its owner can put anything there. */
	if ((s->s_ledger_fd = open(path, O_RDWR | O_CREAT | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600)) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (fstat(s->s_ledger_fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || sb.st_nlink != 1) {
		log_warnx("%s: not a regular file of this user's, with one "
		    "link", path);
		close(s->s_ledger_fd);
		s->s_ledger_fd = -1;
		return -1;
	}
	s->s_ledger_dirty = sb.st_size > 0;
	return 0;
}

/* One line the last daemon left: an unrecorded spawn, taken care of. */
static void
replay_line(struct sched *s, char *line)
{
	struct vm *v;
	char boot[37];
	long pid;
	int64_t start, wall;
	int n = 0;
	int known;

	if (sscanf(line, "%ld %" SCNd64 " %" SCNd64 " %36s %n", &pid,
	    &start, &wall, boot, &n) != 4 || n == 0 || pid <= 0)
		return;
	if ((v = vm_by_name(s, line + n)) == NULL)
		return;		/* removed since */
	/* Watched already (its run was written, or proc_scan found it). */
	if (v->v_fsm.f_live && v->v_proc.p_pid == (pid_t)pid)
		return;
	/* Still runs, not taken for the VM's (proc_scan said why). */
	if (proc_alive((pid_t)pid, start))
		return;
	/* The last daemon wrote it, and died before emptying this. */
	if ((known = db_run_known(s->s_db, v->v_name, pid, start,
	    wall - 60000)) != 0) {
		if (known == -1)
			log_warnx("%s: %s", v->v_name, s->s_db->db_err);
		return;
	}
	if (v->v_fsm.f_live) {
		log_warnx("%s: pid %ld ran unrecorded while pid %ld is watched: "
		    "left out of its history", v->v_name, pid,
		    (long)v->v_proc.p_pid);
		return;
	}
	log_info("%s: pid %ld, started by the last daemon before it could "
	    "record it, ended while none watched", v->v_name, pid);
	vm_ended_unwatched(s, v, (pid_t)pid, start, wall, boot);
}

void
ledger_replay(struct sched *s)
{
	struct stat sb;
	char *buf, *line, *next;
	ssize_t got;

	if (s->s_ledger_fd == -1 || !s->s_ledger_dirty)
		return;
	if (fstat(s->s_ledger_fd, &sb) == -1 || sb.st_size <= 0)
		return;
	if (sb.st_size > LEDGER_MAX) {
		log_warnx("%s.spawns: %lld bytes, more than any daemon "
		    "leaves: ignored", s->s_dbpath, (long long)sb.st_size);
		return;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		log_warn("%s.spawns", s->s_dbpath);
		return;
	}
	got = pread(s->s_ledger_fd, buf, (size_t)sb.st_size, 0);
	if (got < 0) {
		log_warn("%s.spawns", s->s_dbpath);
		got = 0;
	}
	buf[got] = '\0';
	/* A line cut short by the crash has no newline: left out. */
	for (line = buf; (next = strchr(line, '\n')) != NULL;
	    line = next + 1) {
		*next = '\0';
		replay_line(s, line);
	}
	free(buf);
}

void
ledger_spawned(struct sched *s, const struct vm *v)
{
	char line[128 + VM_NAME_MAX];
	int n;

	if (s->s_ledger_fd == -1)
		return;
	n = snprintf(line, sizeof(line), "%ld %" PRId64 " %" PRId64 " %s %s\n",
	    (long)v->v_proc.p_pid, v->v_proc.p_start, v->v_run_wall,
	    s->s_boot_id, v->v_name);
	if (write(s->s_ledger_fd, line, (size_t)n) != n) {
		if (!s->s_ledger_failed)
			log_warn("%s.spawns (a daemon killed before its "
			    "next commit would leave ended VMs unrecorded)",
			    s->s_dbpath);
		s->s_ledger_failed = 1;
		return;
	}
	s->s_ledger_failed = 0;
	s->s_ledger_dirty = 1;
}

void
ledger_clear(struct sched *s)
{
	if (s->s_ledger_fd == -1 || !s->s_ledger_dirty)
		return;
	if (ftruncate(s->s_ledger_fd, 0) == -1) {
		log_warn("%s.spawns", s->s_dbpath);
		return;
	}
	s->s_ledger_dirty = 0;
}

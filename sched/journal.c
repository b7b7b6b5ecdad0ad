/*
 * journal.c: the daemon's state changes on their way to the store. Every
 * record the state machines make in one pass of the loop (a run opened or
 * closed, a state, the events it causes, the request it acknowledges) is
 * queued here and written at the end of the pass in one transaction
 * (db_sup_write): a thousand VMs brought up cost one commit, not a
 * thousand, and every change still commits with its events.
 *
 * A record that only says "now in state X" is replaced by the VM's next
 * record of the same pass, so a VM that goes waiting, starting, running, up
 * writes one row. When the store refuses (disk full, a writer holding the
 * lock, an I/O error), supervision goes on: the queue is kept and retried
 * with a growing pause, the failure is logged once, and when the queue is
 * full new entries are counted instead; the first write that works again
 * says how many were lost and over what time (a scheduler.gap event).
 * Nothing is dropped silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "db.h"

#define JRN_MAX		8192	/* entries kept while the store refuses
				   (at least; 4 a VM for a large fleet) */
#define RETRY_MIN_MS	100
#define RETRY_MAX_MS	2000

/* One change waiting to be written; its strings are its own. */
struct jent {
	struct db_change	 je_c;
	struct vm		*je_vm;		/* NULL: freed, or none */
	char			*je_str[5];	/* je_c's strings, owned */
};

struct journal {
	struct jent		*j_ents;
	size_t			 j_n;
	size_t			 j_cap;
	struct db_change	**j_ptrs;	/* j_cap of them, for writing */
	int			 j_failing;	/* the failure is logged */
	int64_t			 j_retry_at;	/* monotonic; 0: now */
	int64_t			 j_retry_ms;
	int64_t			 j_lost;	/* entries not kept */
	int64_t			 j_lost_from;	/* ... since (Unix ms) */
	int64_t			 j_lost_to;	/* ... until */
	char			 j_gap[160];	/* the gap event's detail */
};

struct journal *
jrn_new(void)
{
	return calloc(1, sizeof(struct journal));
}

static void
ent_clear(struct jent *e)
{
	size_t i;

	for (i = 0; i < sizeof(e->je_str) / sizeof(e->je_str[0]); i++)
		free(e->je_str[i]);
	memset(e, 0, sizeof(*e));
}

void
jrn_free(struct journal *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->j_n; i++)
		ent_clear(&j->j_ents[i]);
	free(j->j_ents);
	free(j->j_ptrs);
	free(j);
}

/* A copy of s owned by e (NULL for NULL; NULL too if out of memory). */
static const char *
keep(struct jent *e, int slot, const char *s)
{
	if (s == NULL)
		return NULL;
	return e->je_str[slot] = strdup(s);
}

static int
state_only(const struct jent *e)
{
	return e->je_c.c_run == CHANGE_RUN_NONE && e->je_c.c_events[0] == NULL;
}

/* How many entries are kept while the store refuses them. */
static size_t
jrn_max(const struct sched *s)
{
	return s->s_nvms * 4 > JRN_MAX ? s->s_nvms * 4 : JRN_MAX;
}

/*
 * An entry for v: its state-only entry of this pass to overwrite, else a
 * new one; NULL (counted as lost) when the queue is full.
 */
static struct jent *
slot_for(struct sched *s, struct vm *v)
{
	struct journal *j = s->s_jrn;
	struct jent *e, *ne;
	struct db_change **np;
	size_t cap;

	if (v != NULL && v->v_jent > 0 && (size_t)v->v_jent <= j->j_n &&
	    state_only(&j->j_ents[v->v_jent - 1])) {
		e = &j->j_ents[v->v_jent - 1];
		ent_clear(e);
		return e;
	}
	/* One pass may queue any number (a fleet's boot); what is kept
	 * while the store refuses is bounded. */
	if (j->j_failing && j->j_n >= jrn_max(s)) {
		if (j->j_lost++ == 0)
			j->j_lost_from = now_ms();
		j->j_lost_to = now_ms();
		return NULL;
	}
	if (j->j_n == j->j_cap) {
		cap = j->j_cap ? j->j_cap * 2 : 64;
		if ((ne = realloc(j->j_ents, cap * sizeof(*ne))) == NULL) {
			if (j->j_lost++ == 0)
				j->j_lost_from = now_ms();
			j->j_lost_to = now_ms();
			return NULL;
		}
		j->j_ents = ne;
		if ((np = realloc(j->j_ptrs, cap * sizeof(*np))) == NULL) {
			j->j_lost++;
			return NULL;
		}
		j->j_ptrs = np;
		j->j_cap = cap;
	}
	e = &j->j_ents[j->j_n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* The common part: v as it is now. */
static void
fill(struct vm *v, struct jent *e, enum vm_state st, const char *why)
{
	struct db_change *c = &e->je_c;
	const struct fsm *f = &v->v_fsm;

	e->je_vm = v;
	c->c_vm_id = v->v_id;
	c->c_vm = keep(e, 0, v->v_name);
	c->c_state = vm_state_name(st);
	c->c_why = keep(e, 1, why);
	c->c_at = now_ms();
	c->c_pid = f->f_live && v->v_proc.p_pid > 0 ? (long)v->v_proc.p_pid :
	    -1;
	c->c_pid_start = v->v_proc.p_start;
	c->c_run_pid = v->v_proc.p_pid > 0 ? (long)v->v_proc.p_pid : -1;
	c->c_live = f->f_live;
	c->c_failures = f->f_failures;
	c->c_restarts = f->f_restarts;
	c->c_handled = v->v_request;
	c->c_owed = fsm_owed(f);
	c->c_run_id = v->v_run_id;
	c->c_run_ref = v->v_run_ref;
	c->c_code = -1;
	c->c_delay_ms = -1;
}

void
jrn_record(struct sched *s, struct vm *v, const struct fsm_record *r)
{
	struct journal *j = s->s_jrn;
	struct db_change *c;
	struct jent *e;
	size_t i;

	if ((e = slot_for(s, v)) == NULL) {
		/* Lost: a run it opened cannot be closed by row either. */
		if (r->r_run == FSM_RUN_OPEN)
			v->v_run_ref = -2;
		return;
	}
	fill(v, e, r->r_state, r->r_why);
	c = &e->je_c;
	c->c_failures = r->r_failures;
	c->c_restarts = r->r_restarts;
	switch (r->r_run) {
	case FSM_RUN_OPEN:
		c->c_run = CHANGE_RUN_OPEN;
		c->c_started_at = v->v_run_wall;
		c->c_boot_id = keep(e, 2, s->s_boot_id);
		/* how it started (a resume), in its run and vm.started */
		c->c_open_detail = c->c_detail = keep(e, 3, r->r_detail);
		v->v_run_id = 0;
		v->v_run_ref = (int)(e - j->j_ents);
		break;
	case FSM_RUN_ONESHOT:
		c->c_run = CHANGE_RUN_ONESHOT;
		c->c_started_at = c->c_at - r->r_took_ms;
		c->c_boot_id = keep(e, 2, s->s_boot_id);
		c->c_run_id = 0;
		c->c_run_ref = -1;
		c->c_run_pid = -1;
		break;
	case FSM_RUN_CLOSE:
		c->c_run = CHANGE_RUN_CLOSE;
		v->v_run_id = 0;
		v->v_run_ref = -1;
		break;
	case FSM_RUN_NONE:
		break;
	}
	if (r->r_run == FSM_RUN_CLOSE || r->r_run == FSM_RUN_ONESHOT) {
		c->c_code = r->r_code;
		c->c_signal = r->r_signal;
		c->c_reason = run_reason_name(r->r_reason);
		c->c_detail = keep(e, 3, r->r_detail);
		c->c_rule = keep(e, 4, r->r_d.d_rule);
		c->c_breaker = r->r_d.d_breaker;
	}
	c->c_delay_ms = r->r_delay_ms;
	if (r->r_delay_ms >= 0)
		c->c_next_start_at = c->c_at + r->r_delay_ms;
	for (i = 0; i < 4 && r->r_events[i] != NULL; i++)
		c->c_events[i] = r->r_events[i];
	v->v_jent = state_only(e) ? (int)(e - j->j_ents) + 1 : 0;
}

void
jrn_touch(struct sched *s, struct vm *v)
{
	struct journal *j = s->s_jrn;
	struct jent *e;

	if (v->v_jent > 0 && (size_t)v->v_jent <= j->j_n) {
		e = &j->j_ents[v->v_jent - 1];
		e->je_c.c_handled = v->v_request;
		e->je_c.c_owed = fsm_owed(&v->v_fsm);
		return;
	}
	if ((e = slot_for(s, v)) == NULL)
		return;
	fill(v, e, v->v_fsm.f_state, v->v_fsm.f_why[0] ?
	    v->v_fsm.f_why : NULL);
	v->v_jent = (int)(e - j->j_ents) + 1;
}

void
jrn_event(struct sched *s, const char *event)
{
	struct jent *e;

	if ((e = slot_for(s, NULL)) == NULL)
		return;
	e->je_c.c_at = now_ms();
	e->je_c.c_pid = -1;
	e->je_c.c_run_pid = -1;
	e->je_c.c_run_ref = -1;
	e->je_c.c_code = -1;
	e->je_c.c_delay_ms = -1;
	e->je_c.c_handled = -1;
	e->je_c.c_events[0] = event;
}

void
jrn_forget(struct journal *j, const struct vm *v)
{
	size_t i;

	for (i = 0; i < j->j_n; i++)
		if (j->j_ents[i].je_vm == v)
			j->j_ents[i].je_vm = NULL;
}

/* Whether the store's failure may pass (full, busy, I/O): keep and retry.
 * Anything else would fail the same way for ever. */
static int
transient(struct db *db)
{
	switch (db->db_code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return 1;
	default:
		return 0;
	}
}

/* The entries that made it: their runs' ids go to their VMs. */
static void
written(struct sched *s)
{
	struct journal *j = s->s_jrn;
	struct jent *e;
	size_t i;
	int events = 0;

	for (i = 0; i < j->j_n; i++) {
		e = &j->j_ents[i];
		events |= e->je_c.c_events[0] != NULL;
		if (e->je_vm != NULL && e->je_c.c_run == CHANGE_RUN_OPEN &&
		    e->je_vm->v_run_ref == (int)i) {
			e->je_vm->v_run_id = e->je_c.c_run_id;
			e->je_vm->v_run_ref = -1;
		}
		if (e->je_vm != NULL)
			e->je_vm->v_jent = 0;
		ent_clear(e);
	}
	j->j_n = 0;
	if (events && s->s_hook != NULL)
		hook_wake(s->s_hook);
}

/* Write entries one at a time, dropping (and counting) those the store
 * will never take. */
static void
one_by_one(struct sched *s)
{
	struct journal *j = s->s_jrn;
	struct db_change *c;
	size_t i, dropped = 0;

	for (i = 0; i < j->j_n; i++) {
		c = &j->j_ents[i].je_c;
		if (c->c_run_ref >= 0)
			c->c_run_id = j->j_ents[c->c_run_ref].je_c.c_run_id;
		c->c_run_ref = -1;
		if (db_sup_change(s->s_db, c) != DB_OK) {
			if (dropped++ == 0)
				log_warnx("recording %s %s: %s (dropped)",
				    c->c_vm ? c->c_vm : "daemon", c->c_state ?
				    c->c_state : c->c_events[0],
				    s->s_db->db_err);
			if (j->j_lost++ == 0)
				j->j_lost_from = c->c_at;
			j->j_lost_to = c->c_at;
		}
	}
	if (dropped > 1)
		log_warnx("recording: %zu changes dropped in all", dropped);
}

int
jrn_flush(struct sched *s)
{
	struct journal *j = s->s_jrn;
	struct jent *e;
	int64_t gapped = 0;
	size_t i;

	if (j->j_n == 0 && j->j_lost == 0)
		return 0;
	if (j->j_retry_at != 0 && mono_ms() < j->j_retry_at)
		return -1;
	/* What could not be kept is said, once the store takes it. */
	if (j->j_lost > 0 && (!j->j_failing || j->j_n < jrn_max(s)) &&
	    (e = slot_for(s, NULL)) != NULL) {
		gapped = j->j_lost;
		snprintf(j->j_gap, sizeof(j->j_gap), "%lld changes lost "
		    "between %lld and %lld (Unix ms): the store refused them",
		    (long long)j->j_lost, (long long)j->j_lost_from,
		    (long long)j->j_lost_to);
		e->je_c.c_at = now_ms();
		e->je_c.c_pid = e->je_c.c_run_pid = -1;
		e->je_c.c_run_ref = -1;
		e->je_c.c_code = -1;
		e->je_c.c_delay_ms = -1;
		e->je_c.c_handled = -1;
		e->je_c.c_detail = keep(e, 3, j->j_gap);
		e->je_c.c_events[0] = "scheduler.gap";
	}
	for (i = 0; i < j->j_n; i++)
		j->j_ptrs[i] = &j->j_ents[i].je_c;
	if (db_sup_write(s->s_db, j->j_ptrs, j->j_n) != DB_OK) {
		if (transient(s->s_db)) {
			if (!j->j_failing)
				log_warnx("recording: %s; keeping changes in "
				    "memory (at most %zu) until the store "
				    "takes them", s->s_db->db_err, jrn_max(s));
			j->j_failing = 1;
			/* The gap entry is made again next time. */
			if (gapped > 0)
				ent_clear(&j->j_ents[--j->j_n]);
			j->j_retry_ms = j->j_retry_ms ? j->j_retry_ms * 2 :
			    RETRY_MIN_MS;
			if (j->j_retry_ms > RETRY_MAX_MS)
				j->j_retry_ms = RETRY_MAX_MS;
			j->j_retry_at = mono_ms() + j->j_retry_ms;
			return -1;
		}
		log_warnx("recording: %s; writing one change at a time",
		    s->s_db->db_err);
		one_by_one(s);
	}
	if (j->j_failing)
		log_info("recording works again: %zu changes written", j->j_n);
	j->j_lost -= gapped;
	j->j_failing = 0;
	j->j_retry_at = 0;
	j->j_retry_ms = 0;
	written(s);
	return 0;
}

int64_t
jrn_retry_at(const struct journal *j)
{
	return j->j_n > 0 || j->j_lost > 0 ? j->j_retry_at : 0;
}

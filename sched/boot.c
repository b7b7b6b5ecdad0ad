/*
 * boot.c: the boot plan and the shutdown order, as facts for the state
 * machines. plan_waves (plan.c) gives every VM its wave: orders form
 * groups, lower first, and a VM comes a wave after each VM it starts
 * --after. While the daemon boots, a VM of the boot may start once every
 * VM of the earlier waves has settled (up, failed, blocked, or past its
 * wait timeout); a VM started by a request, or added since, does not wait
 * for waves. Its --after VMs must be up whenever it starts, boot or not;
 * one that failed, is blocked or will not start makes it blocked until it
 * does. At most max-parallel-starts VMs are between start and up. At
 * shutdown the waves stop last first, one at a time, VMs outside the plan
 * with the last.
 *
 * These facts depend on other VMs, so after the events of a pass
 * boot_settle pokes every VM that could move, until none does.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "db.h"

#define MAX_ROUNDS	64	/* a pass that does not settle is a bug */

void
boot_plan(struct sched *s)
{
	struct db_graph g;
	struct vm *v;
	int *wave = NULL;
	size_t i;

	if (db_graph_load(s->s_db, &g) != DB_OK) {
		log_warnx("boot plan: %s", s->s_db->db_err);
		return;
	}
	if ((wave = calloc(g.g_n + 1, sizeof(*wave))) == NULL ||
	    plan_waves(g.g_n, g.g_order, g.g_edges, g.g_nedges, wave) == -1)
		log_warn("boot plan (a dependency cycle?): starting "
		    "without order");
	else
		for (i = 0; i < g.g_n; i++)
			if ((v = vm_by_id(s, g.g_ids[i])) != NULL)
				v->v_wave = wave[i];
	free(wave);
	db_graph_free(&g);
	vm_sort(s);
}

void
boot_start(struct sched *s)
{
	struct fsm_event ev;
	struct vm *v;
	size_t i;

	s->s_booting = 1;
	s->s_wave = INT_MAX;
	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i]->v_wave > 0 && s->s_vms[i]->v_wave < s->s_wave)
			s->s_wave = s->s_vms[i]->v_wave;
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_BOOT;
	/* Lowest wave first: a VM's dependencies are kicked before it. */
	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		/* A `restart never` VM runs once per boot. */
		ev.fe_ok = v->v_restart == RESTART_NEVER &&
		    strcmp(v->v_boot_id, s->s_boot_id) == 0;
		vm_feed(s, v, &ev);
	}
}

static int
down_wave(const struct vm *v)
{
	return v->v_wave > 0 ? v->v_wave : INT_MAX;
}

/* What v's --after VMs say: 1 all up, 0 one will be, -1 one will not. */
static int
deps(struct sched *s, const struct vm *v, char *why, size_t len)
{
	const struct vm *d;
	const char *name;
	size_t i;
	int rc = 1, dep;

	for (i = 0; i < v->v_def.vd_after.sv_n; i++) {
		name = v->v_def.vd_after.sv_v[i];
		d = vm_by_name(s, name);
		if ((dep = d ? fsm_dep(&d->v_fsm) : -1) == 1)
			continue;
		if (dep == -1) {
			snprintf(why, len, "after %s, which is %s", name,
			    d == NULL || d->v_fsm.f_removed ? "gone" :
			    vm_state_name(d->v_fsm.f_state));
			return -1;
		}
		if (rc == 1)
			snprintf(why, len, "after %s", name);
		rc = 0;
	}
	return rc;
}

void
boot_facts(struct sched *s, const struct vm *v, struct fsm_facts *fx,
    char *buf, size_t len)
{
	char *turn = buf, *dep = buf + len / 2;
	size_t half = len / 2;

	memset(fx, 0, sizeof(*fx));
	fx->fx_now = s->s_now;
	fx->fx_def = &v->v_def;
	fx->fx_rate = &s->s_rate;
	/* Asked of its driver whether or not it lives yet: EV_STARTED and
	 * EV_ADOPT arm the poll before f_live says so. */
	fx->fx_poll_ms = v->v_drv->drv_poll_ms(v);
	if (s->s_shutdown)
		fx->fx_turn = down_wave(v) >= s->s_down_wave;
	else if (!s->s_booting || !v->v_fsm.f_boot || v->v_wave <= s->s_wave)
		fx->fx_turn = 1;
	else {
		snprintf(turn, half, "boot wave %d, after wave %d", v->v_wave,
		    s->s_wave);
		fx->fx_turn_why = turn;
	}
	fx->fx_slot = s->s_starting < s->s_opts->so_max_parallel;
	fx->fx_deps = deps(s, v, dep, half);
	fx->fx_deps_why = fx->fx_deps == 1 ? NULL : dep;
}

/* The lowest wave that has not settled; booting ends when none is left. */
static void
boot_wave(struct sched *s)
{
	const struct vm *v;
	size_t i;
	int wave = INT_MAX, left = 0;

	for (i = 0; i < s->s_nvms; i++) {
		v = s->s_vms[i];
		if (fsm_settled(&v->v_fsm))
			continue;
		left = 1;
		if (down_wave(v) < wave)
			wave = down_wave(v);
	}
	s->s_wave = wave;
	if (!left)
		s->s_booting = 0;
}

/* The latest wave that still has processes. */
static void
shutdown_wave(struct sched *s)
{
	size_t i;

	s->s_down_wave = 0;
	for (i = 0; i < s->s_nvms; i++)
		if (s->s_vms[i]->v_fsm.f_live &&
		    down_wave(s->s_vms[i]) > s->s_down_wave)
			s->s_down_wave = down_wave(s->s_vms[i]);
}

void
boot_shutdown(struct sched *s)
{
	struct fsm_event ev;
	size_t i;

	s->s_shutdown = 1;
	/* The wave to stop first, before anyone asks whose turn it is. */
	shutdown_wave(s);
	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_SHUTDOWN;
	for (i = 0; i < s->s_nvms; i++)
		vm_feed(s, s->s_vms[i], &ev);
}

/* Whether v may move when others do. */
static int
movable(const struct sched *s, const struct vm *v)
{
	const struct fsm *f = &v->v_fsm;

	if (s->s_shutdown)
		return f->f_live && f->f_ask == ASK_NONE;
	return !f->f_live && f->f_kick && f->f_want == WANT_UP;
}

void
boot_settle(struct sched *s)
{
	struct fsm_event ev;
	size_t i;
	int round, changed;

	memset(&ev, 0, sizeof(ev));
	ev.fe_ev = EV_POKE;
	for (round = 0; round < MAX_ROUNDS; round++) {
		if (s->s_shutdown)
			shutdown_wave(s);
		else if (s->s_booting)
			boot_wave(s);
		changed = 0;
		for (i = 0; i < s->s_nvms; i++)
			if (movable(s, s->s_vms[i]))
				changed |= vm_feed(s, s->s_vms[i], &ev);
		if (!changed)
			return;
	}
	log_warnx("the VMs did not settle in %d rounds", MAX_ROUNDS);
}

/*
 * plan.c: the dependency graph between VMs. Nodes are indices chosen by the
 * caller (the store numbers its VMs 0..n-1); an edge says "from starts after
 * to". Pure: no I/O, no clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

/*
 * Adjacency in compressed rows: the targets of node i are
 * adj[first[i] .. first[i + 1] - 1].
 */
struct graph {
	size_t	*g_first;	/* n + 1 offsets into g_adj */
	size_t	*g_adj;		/* edge targets grouped by source */
};

static int
graph_build(struct graph *g, size_t n, const struct plan_edge *e, size_t ne)
{
	size_t i, *fill;

	g->g_first = calloc(n + 1, sizeof(*g->g_first));
	g->g_adj = calloc(ne ? ne : 1, sizeof(*g->g_adj));
	fill = calloc(n + 1, sizeof(*fill));
	if (g->g_first == NULL || g->g_adj == NULL || fill == NULL) {
		free(g->g_first);
		free(g->g_adj);
		free(fill);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < ne; i++)
		g->g_first[e[i].pe_from + 1]++;
	for (i = 0; i < n; i++)
		g->g_first[i + 1] += g->g_first[i];
	memcpy(fill, g->g_first, (n + 1) * sizeof(*fill));
	for (i = 0; i < ne; i++)
		g->g_adj[fill[e[i].pe_from]++] = e[i].pe_to;
	free(fill);
	return 0;
}

static void
graph_free(struct graph *g)
{
	free(g->g_first);
	free(g->g_adj);
}

int
plan_find_cycle(size_t n, const struct plan_edge *e, size_t ne,
    size_t *cycle, size_t *len)
{
	enum { WHITE, GREY, BLACK };
	struct graph g;
	unsigned char *colour = NULL;
	size_t *stack = NULL, *next = NULL;	/* DFS path and edge cursors */
	size_t root, depth, v, w, i;
	int found = 0;

	if (graph_build(&g, n, e, ne) == -1)
		return -1;
	colour = calloc(n ? n : 1, 1);
	stack = calloc(n ? n : 1, sizeof(*stack));
	next = calloc(n ? n : 1, sizeof(*next));
	if (colour == NULL || stack == NULL || next == NULL) {
		found = -1;
		errno = ENOMEM;
		goto done;
	}
	for (root = 0; root < n && !found; root++) {
		if (colour[root] != WHITE)
			continue;
		depth = 0;
		stack[depth++] = root;
		colour[root] = GREY;
		next[root] = g.g_first[root];
		while (depth > 0 && !found) {
			v = stack[depth - 1];
			if (next[v] == g.g_first[v + 1]) {
				colour[v] = BLACK;
				depth--;
				continue;
			}
			w = g.g_adj[next[v]++];
			if (colour[w] == WHITE) {
				colour[w] = GREY;
				next[w] = g.g_first[w];
				stack[depth++] = w;
			} else if (colour[w] == GREY) {
				/* The path from w to v, then w again. */
				for (i = 0; stack[i] != w; i++)
					;
				*len = 0;
				for (; i < depth; i++)
					cycle[(*len)++] = stack[i];
				cycle[(*len)++] = w;
				found = 1;
			}
		}
	}
done:
	free(colour);
	free(stack);
	free(next);
	graph_free(&g);
	return found;
}

/* Sort key for plan_waves: effective order, then topological position. */
struct rank {
	int	r_eff;
	size_t	r_topo;
	size_t	r_node;
};

static int
rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->r_eff != y->r_eff)
		return x->r_eff < y->r_eff ? -1 : 1;
	return x->r_topo < y->r_topo ? -1 : x->r_topo > y->r_topo;
}

int
plan_waves(size_t n, const int *order, const struct plan_edge *e, size_t ne,
    int *wave)
{
	struct graph g;
	struct rank *rk = NULL;
	size_t *topo = NULL, *deps_left = NULL, *rev_first = NULL,
	    *rev = NULL, *fill = NULL;
	size_t head, tail, i, j, v, d;
	int *eff = NULL, base = 1, maxwave = 0, cur = 0, rc = -1;

	if (n == 0)
		return 0;
	if (graph_build(&g, n, e, ne) == -1)
		return -1;
	topo = calloc(n, sizeof(*topo));
	deps_left = calloc(n, sizeof(*deps_left));
	rev_first = calloc(n + 1, sizeof(*rev_first));
	rev = calloc(ne ? ne : 1, sizeof(*rev));
	fill = calloc(n + 1, sizeof(*fill));
	eff = calloc(n, sizeof(*eff));
	rk = calloc(n, sizeof(*rk));
	if (!topo || !deps_left || !rev_first || !rev || !fill || !eff || !rk) {
		errno = ENOMEM;
		goto done;
	}
	/* Dependents of each node, to release them as their deps finish. */
	for (i = 0; i < ne; i++)
		rev_first[e[i].pe_to + 1]++;
	for (i = 0; i < n; i++)
		rev_first[i + 1] += rev_first[i];
	memcpy(fill, rev_first, (n + 1) * sizeof(*fill));
	for (i = 0; i < ne; i++)
		rev[fill[e[i].pe_to]++] = e[i].pe_from;
	/* Kahn: dependencies before dependents. */
	head = tail = 0;
	for (v = 0; v < n; v++) {
		deps_left[v] = g.g_first[v + 1] - g.g_first[v];
		if (deps_left[v] == 0)
			topo[tail++] = v;
	}
	while (head < tail) {
		v = topo[head++];
		for (j = rev_first[v]; j < rev_first[v + 1]; j++)
			if (--deps_left[rev[j]] == 0)
				topo[tail++] = rev[j];
	}
	if (tail != n) {
		errno = EINVAL;		/* a cycle */
		goto done;
	}
	/* A VM that waits for a later group's VM joins that group. */
	for (i = 0; i < n; i++) {
		v = topo[i];
		eff[v] = order[v];
		for (j = g.g_first[v]; j < g.g_first[v + 1]; j++)
			if (eff[g.g_adj[j]] > eff[v])
				eff[v] = eff[g.g_adj[j]];
		rk[i].r_eff = eff[v];
		rk[i].r_topo = i;
		rk[i].r_node = v;
	}
	qsort(rk, n, sizeof(*rk), rank_cmp);
	for (i = 0; i < n; i++) {
		v = rk[i].r_node;
		if (i == 0 || rk[i].r_eff != cur) {
			cur = rk[i].r_eff;
			base = maxwave + 1;
		}
		wave[v] = base;
		for (j = g.g_first[v]; j < g.g_first[v + 1]; j++) {
			d = g.g_adj[j];
			if (wave[d] + 1 > wave[v])
				wave[v] = wave[d] + 1;
		}
		if (wave[v] > maxwave)
			maxwave = wave[v];
	}
	rc = maxwave;
done:
	free(topo);
	free(deps_left);
	free(rev_first);
	free(rev);
	free(fill);
	free(eff);
	free(rk);
	graph_free(&g);
	return rc;
}

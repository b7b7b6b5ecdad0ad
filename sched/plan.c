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

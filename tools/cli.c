/*
 * cli.c: helpers every command uses: errors in the "vmsched: what: why"
 * form with sysexits codes, option parsing with our own messages, JSON
 * output, and aligned tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#include "cli.h"

int
cli_err(int code, const char *fmt, ...)
{
	char small[512], *msg = small, *shown;
	va_list ap;
	int n;

	/* Values in a message come from users: escape what a terminal
	 * would act on (text_shown), so a message is one plain line. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(small) && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (msg == NULL)
		msg = small;
	if ((shown = text_escape(msg)) != NULL)
		fprintf(stderr, "vmsched: %s\n", shown);
	else
		fprintf(stderr, "vmsched: %s\n", msg);
	free(shown);
	if (msg != small)
		free(msg);
	return code;
}

int
cli_usage(const struct cmd *cmd)
{
	fprintf(stderr, "usage: vmsched %s %s\n", cmd->cmd_name,
	    cmd->cmd_args);
	return EX_USAGE;
}

/* Open the database as how says, once; 0 or the exit code after why. */
static int
open_how(struct cli *cli, enum db_open_how how)
{
	int rc;

	if (cli->c_db.db_h != NULL)
		return 0;
	if ((rc = db_open_how(&cli->c_db, cli->c_dbpath, -1, how)) != DB_OK)
		return cli_dberr(cli, rc);
	return 0;
}

int
cli_open(struct cli *cli)
{
	return open_how(cli, DB_OPEN_CREATE);
}

int
cli_open_write(struct cli *cli)
{
	return open_how(cli, DB_OPEN_WRITE);
}

int
cli_open_read(struct cli *cli)
{
	return open_how(cli, DB_OPEN_READ);
}

void
cli_quote(const char *s, char *buf, size_t len)
{
	size_t n = strlen(buf);
	const char *p;
	int plain = s[0] != '\0', ctl = 0;

	for (p = s; *p; p++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789@%+=:,./_-", *p))
			plain = 0;
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ctl = 1;
	}
	if (plain) {
		snprintf(buf + n, len - n, "%s", s);
		return;
	}
	n += (size_t)snprintf(buf + n, len - n, ctl ? "$'" : "'");
	for (p = s; *p && n + 5 < len; p++) {
		if (!ctl && *p == '\'')
			n += (size_t)snprintf(buf + n, len - n, "'\\''");
		else if (ctl && (*p == '\'' || *p == '\\'))
			n += (size_t)snprintf(buf + n, len - n, "\\%c", *p);
		else if (ctl && ((unsigned char)*p < 0x20 || *p == 0x7f))
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x",
			    (unsigned char)*p);
		else
			buf[n++] = *p;
	}
	if (n + 1 < len)
		buf[n++] = '\'';
	buf[n < len ? n : len - 1] = '\0';
}

int
cli_self_path(char *buf, size_t len)
{
#ifdef __APPLE__
	char raw[PATH_MAX];
	uint32_t size = sizeof(raw);

	if (len < PATH_MAX || _NSGetExecutablePath(raw, &size) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return realpath(raw, buf) == NULL ? -1 : 0;
#else
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, len - 1)) == -1)
		return -1;
	if ((size_t)n >= len - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	return 0;
#endif
}

int
cli_dberr(struct cli *cli, int status)
{
	static const struct {
		int	status;
		int	code;
	} map[] = {
		{ DB_NOTFOUND, EX_NOINPUT },
		{ DB_EXISTS, EX_USAGE },
		{ DB_REFUSED, EX_USAGE },
		{ DB_LIVE, EX_USAGE },
		{ DB_NEWER, EX_DATAERR },
		{ DB_CANTCREATE, EX_CANTCREAT },
		{ DB_UNSAFE, EX_NOPERM },
	};
	const char *path = cli->c_db.db_path;
	size_t i;

	/* A failure of the store itself says which store. */
	if (status == DB_ERR && path[0] != '\0' &&
	    strncmp(cli->c_db.db_err, path, strlen(path)) != 0)
		cli_err(0, "%s: %s", path, cli->c_db.db_err);
	else
		cli_err(0, "%s", cli->c_db.db_err);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].status == status)
			return map[i].code;
	return EX_SOFTWARE;
}

/*
 * getopt_long takes any unambiguous abbreviation (--for for --force): find
 * the first long option that is not spelled out in full, or NULL.
 */
static const char *
abbreviated(int argc, char **argv, const struct option *longopts,
    int stop_at_operand)
{
	const struct option *o;
	size_t len;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return NULL;
		if (strncmp(argv[i], "--", 2) != 0) {
			if (stop_at_operand)
				return NULL;
			continue;
		}
		len = strcspn(argv[i] + 2, "=");
		for (o = longopts; o != NULL && o->name != NULL; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, argv[i] + 2, len) == 0)
				break;
		if (o == NULL || o->name == NULL)
			return argv[i];
		if (o->has_arg == required_argument && argv[i][2 + len] == '\0')
			i++;	/* its value, whatever it looks like */
	}
	return NULL;
}

int
cli_options(const struct cmd *cmd, int argc, char **argv,
    const struct option *longopts,
    int (*fn)(int opt, const char *arg, void *), void *arg,
    int *optind_out, int *dashdash)
{
	const char *bad;
	int opt, rc;

	if ((bad = abbreviated(argc, argv, longopts, dashdash != NULL)) !=
	    NULL) {
		cli_err(0, "%s: unknown option %s", cmd->cmd_name, bad);
		return cli_usage(cmd);
	}
	opterr = 0;
	optind = 0;	/* glibc: start afresh */
	/* Options may follow operands, unless "--" matters to the command:
	 * then they stop at the first operand, as POSIX has it. */
	while ((opt = getopt_long(argc, argv, dashdash ? "+:" : ":", longopts,
	    NULL)) != -1) {
		if (opt == '?') {
			cli_err(0, "%s: unknown option %s", cmd->cmd_name,
			    argv[optind - 1]);
			return cli_usage(cmd);
		}
		if (opt == ':') {
			cli_err(0, "%s: %s needs a value", cmd->cmd_name,
			    argv[optind - 1]);
			return cli_usage(cmd);
		}
		if (fn != NULL && (rc = fn(opt, optarg, arg)) != 0)
			return rc;
	}
	*optind_out = optind;
	if (dashdash)
		*dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
	return 0;
}

const struct option cli_json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

int
cli_json_opt(int opt, const char *arg, void *cli)
{
	(void)arg;
	if (opt == 'j')
		((struct cli *)cli)->c_json = 1;
	return 0;
}

int
cli_nargs(const struct cmd *cmd, int n)
{
	if (n < cmd->cmd_min || (cmd->cmd_max >= 0 && n > cmd->cmd_max)) {
		cli_err(0, "%s: %s", cmd->cmd_name, n < cmd->cmd_min ?
		    "missing arguments" : "too many arguments");
		return cli_usage(cmd);
	}
	return 0;
}

void
cli_field(int width, const char *key, const char *value)
{
	char *shown = value ? text_escape(value) : NULL;

	printf("%-*s %s\n", width, key, shown ? shown : value ? "?" : "-");
	free(shown);
}

int
cli_print_json(char *json)
{
	puts(json);
	free(json);
	return 0;
}

int
table_init(struct table *t, size_t ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->t_ncols = ncols;
	return table_add(t, heads);
}

int
table_add(struct table *t, const char *const *cells)
{
	char **c;
	size_t i, cap;

	if (t->t_nrows == t->t_cap) {
		cap = t->t_cap ? t->t_cap * 2 : 16;
		c = realloc(t->t_cells, cap * t->t_ncols * sizeof(*c));
		if (c == NULL)
			return -1;
		t->t_cells = c;
		t->t_cap = cap;
	}
	c = t->t_cells + t->t_nrows * t->t_ncols;
	/* Cells hold what users typed: escaped for the terminal. */
	for (i = 0; i < t->t_ncols; i++)
		c[i] = text_escape(cells[i] ? cells[i] : "-");
	t->t_nrows++;
	for (i = 0; i < t->t_ncols; i++)
		if (c[i] == NULL)
			return -1;
	return 0;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void
table_print(struct table *t, FILE *fp)
{
	size_t *w, r, c;
	const char *cell;

	if ((w = calloc(t->t_ncols, sizeof(*w))) == NULL)
		return;
	for (r = 0; r < t->t_nrows; r++)
		for (c = 0; c < t->t_ncols; c++)
			if (t->t_cells[r * t->t_ncols + c] != NULL &&
			    width(t->t_cells[r * t->t_ncols + c]) > w[c])
				w[c] = width(t->t_cells[r * t->t_ncols + c]);
	for (r = 0; r < t->t_nrows; r++) {
		for (c = 0; c < t->t_ncols; c++) {
			cell = t->t_cells[r * t->t_ncols + c];
			if (cell == NULL)
				cell = "?";
			if (c + 1 == t->t_ncols)
				fputs(cell, fp);
			else
				fprintf(fp, "%s%*s", cell,
				    (int)(w[c] - width(cell) + 2), "");
		}
		fputc('\n', fp);
	}
	free(w);
}

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->t_nrows * t->t_ncols; i++)
		free(t->t_cells[i]);
	free(t->t_cells);
	memset(t, 0, sizeof(*t));
}

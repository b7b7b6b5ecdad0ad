/*
 * cli.c: helpers every command uses: errors in the "vmsched: what: why"
 * form with sysexits codes, option parsing with our own messages, JSON
 * output, and aligned tables.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
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

/* cli_options, with the one-letter options of shorts ("f", "n:") too. */
static int
parse_options(const struct cmd *cmd, int argc, char **argv,
    const struct option *longopts, const char *shorts,
    int (*fn)(int opt, const char *arg, void *), void *arg,
    int *optind_out, int *dashdash)
{
	const char *bad;
	char optstring[2 * 64 + 4];	/* "+:" and two per option */
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
	snprintf(optstring, sizeof(optstring), "%s%s", dashdash ? "+:" : ":",
	    shorts);
	while ((opt = getopt_long(argc, argv, optstring, longopts,
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

int
cli_options(const struct cmd *cmd, int argc, char **argv,
    const struct option *longopts,
    int (*fn)(int opt, const char *arg, void *), void *arg,
    int *optind_out, int *dashdash)
{
	return parse_options(cmd, argc, argv, longopts, "", fn, arg,
	    optind_out, dashdash);
}

const struct cli_opt cli_json_opts[] = {
	{ "json", 'j', CV_NONE, NULL, NULL, NULL, 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
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
table_drop_last(struct table *t)
{
	size_t r, c, n = t->t_ncols;

	if (n < 2)
		return;
	for (r = 0; r < t->t_nrows; r++) {
		free(t->t_cells[r * n + n - 1]);
		for (c = 0; c + 1 < n; c++)
			t->t_cells[r * (n - 1) + c] = t->t_cells[r * n + c];
	}
	t->t_ncols = n - 1;
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

/* ---- issue 13: options from the command's table ---- */

#define CLI_OPTS_MAX	64	/* options of one command, at most */

/*
 * Append the options of list that belong to sub to o[*n] (and their
 * one-letter forms to shorts, when not NULL); -1 if full.
 */
static int
table_opts(const struct cli_opt *list, const char *sub, struct option *o,
    size_t *n, size_t max, char *shorts)
{
	size_t k;

	for (; list != NULL && list->co_name != NULL; list++) {
		if ((sub == NULL) != (list->co_sub == NULL) ||
		    (sub != NULL && strcmp(sub, list->co_sub) != 0))
			continue;
		if (*n + 1 >= max)
			return -1;
		if (shorts != NULL && list->co_short != 0) {
			k = strlen(shorts);
			shorts[k++] = (char)list->co_short;
			if (list->co_value != CV_NONE)
				shorts[k++] = ':';
			shorts[k] = '\0';
		}
		o[*n].name = list->co_name;
		o[*n].has_arg = list->co_value == CV_NONE ? no_argument :
		    required_argument;
		o[*n].flag = NULL;
		o[*n].val = list->co_val;
		(*n)++;
	}
	memset(&o[*n], 0, sizeof(o[*n]));
	return 0;
}

int
cli_longopts(const struct cli_opt *list, const char *sub, struct option *o,
    size_t max)
{
	size_t n = 0;

	if (max == 0 || table_opts(list, sub, o, &n, max, NULL) == -1)
		return -1;
	return (int)n;
}

int
cli_getopt(const struct cmd *cmd, const char *sub, int argc, char **argv,
    int (*fn)(int opt, const char *arg, void *), void *arg,
    int *optind_out, int *dashdash)
{
	struct option o[CLI_OPTS_MAX];
	char shorts[2 * CLI_OPTS_MAX + 1] = "";
	size_t n = 0;

	if (table_opts(cmd->cmd_opts, sub, o, &n, CLI_OPTS_MAX, shorts) ==
	    -1 || table_opts(cmd->cmd_shared, sub, o, &n, CLI_OPTS_MAX,
	    shorts) == -1)
		return cli_err(EX_SOFTWARE, "%s: too many options",
		    cmd->cmd_name);
	return parse_options(cmd, argc, argv, o, shorts, fn, arg, optind_out,
	    dashdash);
}

/* ---- issue 13: tables that fit the terminal ---- */

size_t
cli_term_width(int fd)
{
	struct winsize ws;
	const char *cols;
	long n;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((cols = getenv("COLUMNS")) != NULL && (n = strtol(cols, NULL,
	    10)) > 0)
		return (size_t)n;
	return 80;
}

/* Cut s to at most w display columns, the last three of them "...". */
static void
cut(char *s, size_t w)
{
	size_t cols = 0;
	char *p;

	if (width(s) <= w || w < 3)
		return;
	for (p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && cols++ == w - 3)
			break;
	}
	strcpy(p, "...");
}

void
table_fit(struct table *t, size_t col, size_t width_max)
{
	size_t r, c, w, others = 0, room;

	if (col >= t->t_ncols)
		return;
	for (c = 0; c < t->t_ncols; c++) {
		if (c == col)
			continue;
		for (r = 0, w = 0; r < t->t_nrows; r++)
			if (t->t_cells[r * t->t_ncols + c] != NULL &&
			    width(t->t_cells[r * t->t_ncols + c]) > w)
				w = width(t->t_cells[r * t->t_ncols + c]);
		/* every column but the last is followed by two blanks */
		others += w + (c + 1 < t->t_ncols ? 2 : 0);
	}
	if (col + 1 < t->t_ncols)
		others += 2;
	room = width_max > others + TABLE_MIN_CUT ? width_max - others :
	    TABLE_MIN_CUT;
	for (r = 0; r < t->t_nrows; r++)
		if (t->t_cells[r * t->t_ncols + col] != NULL)
			cut(t->t_cells[r * t->t_ncols + col], room);
}

/* ---- issue 13: following the database ---- */

/* The signal plumbing of cli_follow: set by SIGINT and SIGTERM. */
static volatile sig_atomic_t follow_stop;

static void
follow_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* Flush stdout: 0, 1 if its reader went away, or the exit code. */
static int
follow_flush(void)
{
	int fd;

	if (fflush(stdout) != EOF && !ferror(stdout))
		return 0;
	if (errno != EPIPE)
		return cli_err(EX_IOERR, "stdout: %s", strerror(errno));
	/* Nobody reads any more (| head): a clean end, nothing to say. */
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	clearerr(stdout);
	return 1;
}

int
cli_follow(struct cli *cli, int (*fn)(struct cli *, void *), void *arg)
{
	struct sigaction sa;
	struct timespec ts;
	int64_t seen, now;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = follow_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: the nap below ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Before the first call: a commit during it is looked at again. */
	if ((rc = db_data_version(&cli->c_db, &seen)) != DB_OK)
		return cli_dberr(cli, rc);
	for (;;) {
		if ((rc = fn(cli, arg)) != 0)
			return rc;
		if ((rc = follow_flush()) != 0)
			return rc == 1 ? 0 : rc;
		do {
			ts.tv_sec = 0;
			ts.tv_nsec = CLI_FOLLOW_MS * 1000000L;
			nanosleep(&ts, NULL);
			if (follow_stop)
				return 0;
			if ((rc = db_data_version(&cli->c_db, &now)) != DB_OK)
				return cli_dberr(cli, rc);
		} while (now == seen);
		seen = now;
	}
}

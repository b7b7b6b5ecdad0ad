/*
 * cli.h: what the vmsched command's files share. The command table entry
 * each tools/cmd-*.c exports, the context a command runs in, and helpers
 * for errors (sysexits codes), tables and JSON output.
 */
#ifndef VMSCHED_CLI_H
#define VMSCHED_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

#include "../db/db.h"
#include "../sched/sched.h"

/* What a command runs with. */
struct cli {
	struct db	 c_db;		/* open when the command has CMD_DB */
	const char	*c_dbpath;	/* --db, VMSCHED_DB or the default */
	int		 c_json;	/* --json: one JSON document */
	long		 c_uid;		/* who runs us, for audit events */
};


/* One command: an entry of the table in main.c. */
struct cmd {
	const char	*cmd_name;
	const char	*cmd_args;	/* usage after the name */
	const char	*cmd_help;	/* one line for vmsched help */
	int		 cmd_min;	/* operands after options, at least */
	int		 cmd_max;	/* ... and at most; -1: no limit */
	int		(*cmd_fn)(struct cli *, const struct cmd *, int,
			    char **);
};

extern const struct cmd cmd_add, cmd_set, cmd_remove, cmd_list, cmd_show,
    cmd_log, cmd_enable, cmd_disable, cmd_db, cmd_help, cmd_daemon, cmd_plan, cmd_probe,
    cmd_start, cmd_stop, cmd_suspend, cmd_restart, cmd_reset, cmd_status, cmd_vmx_check,
    cmd_import_launchd, cmd_export_launchd, cmd_export_systemd;
extern const struct cmd cmd_webhook, cmd_events;

/* main.c */
/* Every command, in the order help lists them; NULL-terminated. */
extern const struct cmd *const cmd_table[];

/* cli.c */
/* Print "vmsched: <fmt>" to stderr and return code. */
int	 cli_err(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Print "usage: vmsched NAME ARGS" to stderr and return EX_USAGE. */
int	 cli_usage(const struct cmd *cmd);
/*
 * Open the database (creating and migrating it) once the command has
 * validated its arguments, so bad input never creates a file. 0, or the
 * exit code after printing why.
 */
int	 cli_open(struct cli *cli);
/*
 * Issue 10: commands that only read, or change what exists, never create
 * a database: a mistyped --db says so (66) instead. cli_open_read reads a
 * database that cannot be written (read-only file, directory or disk).
 */
int	 cli_open_read(struct cli *cli);
int	 cli_open_write(struct cli *cli);
/* The absolute path of the running binary (buf of PATH_MAX); 0 or -1. */
int	 cli_self_path(char *buf, size_t len);
/* Append s to buf as a shell word ('quoted' or $'escaped' when needed). */
void	 cli_quote(const char *s, char *buf, size_t len);
/* The exit code for a db status, after printing db->db_err. */
int	 cli_dberr(struct cli *cli, int status);
/*
 * Parse a command's long options with getopt_long, calling fn (if not
 * NULL) for each. With dashdash, parsing stops at the first operand or
 * "--" and *dashdash says whether "--" ended it; without, options may
 * come after operands, which are moved to the end.
 * Unknown options and missing values print a message and return EX_USAGE;
 * a nonzero return from fn is returned as it is. *optind_out is where the
 * operands start; *dashdash says whether "--" ended the options.
 */
int	 cli_options(const struct cmd *cmd, int argc, char **argv,
	    const struct option *longopts,
	    int (*fn)(int opt, const char *arg, void *), void *arg,
	    int *optind_out, int *dashdash);
/* The --json option of read commands, and its cli_options handler. */
extern const struct option cli_json_opts[];
int	 cli_json_opt(int opt, const char *arg, void *cli);
/* Check the operand count against the table; EX_USAGE with usage if not. */
int	 cli_nargs(const struct cmd *cmd, int n);
/* "KEY   value" on a line of its own, value escaped for the terminal
 * (text_shown), NULL as "-". */
void	 cli_field(int width, const char *key, const char *value);
/* Print a JSON document and a newline, and free it. */
int	 cli_print_json(char *json);

/* A table for the terminal: columns padded to their widest cell. */
struct table {
	size_t	  t_ncols;
	size_t	  t_nrows;
	size_t	  t_cap;	/* rows t_cells has room for */
	char	**t_cells;	/* t_nrows * t_ncols, row-major */
};
int	 table_init(struct table *t, size_t ncols, const char *const *heads);
/* Add a row of t_ncols strings (copied, escaped for the terminal with
 * text_shown; NULL prints as "-"). */
int	 table_add(struct table *t, const char *const *cells);
void	 table_print(struct table *t, FILE *fp);
void	 table_free(struct table *t);

/* cmd-ctl.c */
/*
 * Ask the daemon to "start", "stop", "suspend", "restart" or "reset" the
 * n VMs names, wake it, and unless !wait, wait up to timeout_ms until they
 * got there. Returns the exit code, after printing any error.
 */
int	 ctl_request(struct cli *cli, const char *what, char *const *names,
	    int n, int wait, int64_t timeout_ms);

/* vmopts.c: the options of add and set. */
extern const struct option vmopts_long[];
struct vmopts;
/* New, empty option list; NULL on ENOMEM. */
struct vmopts	*vmopts_new(void);
void	 vmopts_free(struct vmopts *vo);
/*
 * Take one option (as getopt_long returned it) and its value: validate it
 * now and keep it for vmopts_apply. EX_USAGE (message printed) if bad.
 */
int	 vmopts_take(int opt, const char *arg, void *vo);
/* Apply the options taken to vd; db_edit_fn shaped, for db_vm_update. */
int	 vmopts_apply(struct vm_def *vd, void *vo, char *err, size_t errlen);
/* Record the command after "--" for vmopts_apply. */
int	 vmopts_command(struct vmopts *vo, int argc, char **argv);

#endif

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


/*
 * ---- Option tables (issue 13: one source for parsing, help, completion
 * and the man page's test). ----
 * What an option's value, or a command's operands, are: what completion
 * offers there.
 */
enum cli_value {
	CV_NONE,	/* a flag (an option); no operands (a command) */
	CV_TEXT,	/* anything: nothing to offer */
	CV_VM,		/* a defined VM's name */
	CV_FILE,	/* a file */
	CV_DIR,		/* a directory */
	CV_USER,	/* a user name */
	CV_SIGNAL,	/* a signal name */
	CV_WORDS,	/* one of co_words / cmd_words */
	CV_COMMAND,	/* a vmsched command (help) */
	CV_EVENTS,	/* a list of event names (webhook --events) */
	CV_PROGRAM,	/* a program to run (after add's "--") */
};

/* One long option of a command; tables end with a NULL co_name. */
struct cli_opt {
	const char	*co_name;	/* without the leading "--" */
	int		 co_val;	/* what the handler is called with */
	enum cli_value	 co_value;	/* CV_NONE: takes no value */
	const char	*co_meta;	/* its value in help: "N", "DURATION" */
	const char	*co_words;	/* CV_WORDS: values, blank-separated */
	const char	*co_sub;	/* only after this subcommand; NULL: the
					   command itself */
	int		 co_short;	/* its one-letter form ('f': -f), or 0;
					   co_val must then be the same */
};
/* The global options (before the command); main.c. */
extern const struct cli_opt cli_global_opts[];
/*
 * Fill o (room for max, including the terminating zero entry) with the
 * options of list whose co_sub is sub, as getopt_long takes them. The
 * count, or -1 if they do not fit.
 */
int	 cli_longopts(const struct cli_opt *list, const char *sub,
	    struct option *o, size_t max);

/* complete.c: what shell completion offers at the cursor. */
struct compl {
	enum cli_value	 cp_what;	/* CV_NONE: nothing to offer */
	int		 cp_options;	/* offer options (of cp_cmd, else the
					   global ones) */
	const struct cmd *cp_cmd;	/* the command typed, or NULL */
	const char	*cp_sub;	/* its subcommand, or NULL */
	const char	*cp_words;	/* CV_WORDS: the values */
	const char	*cp_prefix;	/* the word as typed so far */
	const char	*cp_db;		/* --db PATH as typed, or NULL */
	char *const	*cp_typed;	/* the words after the command */
	int		 cp_ntyped;	/* ... up to the cursor */
	int		 cp_noperands;	/* operands among them */
};
/*
 * What belongs at words[cword] of the command line words[0..n) (words[0]
 * is "vmsched"; cword may be n, a word not typed yet). Fills *cp, whose
 * pointers point into words and the command table.
 */
void	 complete_at(char *const *words, int n, int cword, struct compl *cp);
/* The option of cmd (NULL: a global one) that word ("--name[=v]") is. */
const struct cli_opt *complete_find_opt(const struct cmd *cmd,
	    const char *sub, const char *word);
/* ---- end of option tables ---- */

/* One command: an entry of the table in main.c. */
struct cmd {
	const char	*cmd_name;
	const char	*cmd_args;	/* usage after the name */
	const char	*cmd_help;	/* one line for vmsched help */
	int		 cmd_min;	/* operands after options, at least */
	int		 cmd_max;	/* ... and at most; -1: no limit */
	int		(*cmd_fn)(struct cli *, const struct cmd *, int,
			    char **);
	/* issue 13: what help and completion read; NULL/0 when none */
	const struct cli_opt *cmd_opts;	/* its own options */
	const struct cli_opt *cmd_shared; /* ... and a list it shares */
	enum cli_value	 cmd_operand;	/* what its operands are */
	const char	*cmd_words;	/* CV_WORDS: subcommands, blank-sep. */
	int		 cmd_hidden;	/* not in help: for scripts */
};

extern const struct cmd cmd_add, cmd_set, cmd_remove, cmd_list, cmd_show,
    cmd_log, cmd_enable, cmd_disable, cmd_db, cmd_help, cmd_daemon, cmd_plan, cmd_probe,
    cmd_start, cmd_stop, cmd_suspend, cmd_restart, cmd_reset, cmd_status, cmd_vmx_check,
    cmd_import_launchd, cmd_export_launchd, cmd_export_systemd;
extern const struct cmd cmd_webhook, cmd_events;
extern const struct cmd cmd_complete, cmd_completion, cmd_metrics; /* #13 */
extern const struct cmd cmd_qmp; /* #12 */

/* main.c */
/* Every command, in the order help lists them; NULL-terminated. */
extern const struct cmd *const cmd_table[];
/* The command called name exactly (no prefixes), or NULL. */
const struct cmd *cmd_find(const char *name);

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
/*
 * cli_options with the command's own table (cmd_opts, then cmd_shared),
 * the options whose co_sub is sub (NULL: the command's own, outside any
 * subcommand). EX_SOFTWARE if the table is too long for it.
 */
int	 cli_getopt(const struct cmd *cmd, const char *sub, int argc,
	    char **argv, int (*fn)(int opt, const char *arg, void *),
	    void *arg, int *optind_out, int *dashdash);
/* The --json option of read commands, and its cli_getopt handler. */
extern const struct cli_opt cli_json_opts[];
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
/* Issue 12: leave out t's last column (list's DRIVER, for a fleet of exec
 * VMs only). */
void	 table_drop_last(struct table *t);
void	 table_free(struct table *t);
/*
 * issue 13: cut the cells of column col (ending them with "...") so that
 * table_print's lines are at most width columns; no cell is cut below
 * TABLE_MIN_CUT columns. The other columns stay whole.
 */
#define TABLE_MIN_CUT	16
void	 table_fit(struct table *t, size_t col, size_t width);
/* The width of the terminal on fd (ioctl, else $COLUMNS, else 80). */
size_t	 cli_term_width(int fd);
/*
 * issue 13, log -f and events -f: call fn(cli, arg) once, then again each
 * time another connection has committed to the database (PRAGMA
 * data_version, looked at every CLI_FOLLOW_MS), flushing stdout after
 * each call. Returns 0 on SIGINT, SIGTERM or once stdout's reader has
 * gone (EPIPE: stdout then goes to /dev/null, so nothing more fails); or
 * fn's nonzero return, or the exit code of a failure, printed.
 */
#define CLI_FOLLOW_MS	250
int	 cli_follow(struct cli *cli, int (*fn)(struct cli *, void *),
	    void *arg);

/* cmd-ctl.c */
/*
 * Ask the daemon to "start", "stop", "suspend", "restart" or "reset" the
 * n VMs names, wake it, and unless !wait, wait up to timeout_ms until they
 * got there. Returns the exit code, after printing any error.
 */
int	 ctl_request(struct cli *cli, const char *what, char *const *names,
	    int n, int wait, int64_t timeout_ms);
/* issue 13: add/enable --start, and what they say without it. */
#define CTL_TIMEOUT_MS	90000	/* how long start & co. wait by default */
/*
 * When a daemon runs and the VM name is stopped (or disabled, suspended,
 * failed), so that it will not start by itself: say on one line how to
 * start it, for what ("add", "enable"), which has --start.
 */
void	 ctl_hint_start(struct cli *cli, const char *what, const char *name);
/* Whether a daemon runs on the database; if not, say so for what. */
int	 ctl_daemon_running(struct cli *cli, const char *what);

/* cmd-log.c */
/*
 * A run row of the history in words, into buf: "run pid 4242 exited 1
 * after 3s; on-failure: ..., failures 3, restart in 4s".
 */
void	 log_describe_run(const struct db_log_row *r, char *buf, size_t len);

/* vmopts.c: the options of add and set. */
extern const struct cli_opt vmopts_opts[];
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

/* vmopts.c (issue 12): the value last given for option name, or NULL. */
const char	*vmopts_last(const struct vmopts *vo, const char *name);

/*
 * shortcuts.c (issue 12): --vmware, --vmrun, --libvirt, --virtualbox,
 * --qemu and their helpers, as add takes them; what import-launchd maps
 * to them.
 */
enum {
	O_SC_VMWARE = 400, O_SC_VMWARE_VMX, O_SC_VMRUN, O_SC_LIBVIRT,
	O_SC_CONNECT, O_SC_VIRTUALBOX, O_SC_QEMU, O_SC_RUN_DIR,
	O_SC_VMRUN_TYPE, O_SC_TOOL,	/* O_SC_TOOL last */
};
/* The shortcut options given; strings point into argv. */
struct shortcut_args {
	enum shortcut_kind	 sa_kind;	/* SC_VMWARE for --vmrun too */
	const char		*sa_target;	/* .vmx, domain, VM name */
	int			 sa_vmrun;	/* --vmrun */
	const char		*sa_vmrun_type;	/* --vmrun-type */
	const char		*sa_connect;	/* --connect URI */
	const char		*sa_tool;	/* --tool, --vmware-vmx */
	const char		*sa_run_dir;	/* --run-dir */
};
void	 shortcuts_init(struct shortcut_args *sa);
/* Take one of the O_SC_* options: 0, or EX_USAGE after saying why. */
int	 shortcuts_take(int opt, const char *arg, struct shortcut_args *sa);
/* Whether any shortcut option was given. */
int	 shortcuts_used(const struct shortcut_args *sa);
/*
 * Expand sa into vd (its name set; for --qemu, vd_argv the command after
 * --), for a VM that runs as user (NULL: as whoever runs vmsched): find
 * the tool, settle the URI or run directory, warn about the .vmx. 0, or
 * the exit code after saying why (66: the tool is not there).
 */
int	 shortcuts_expand(struct cli *cli, const struct shortcut_args *sa,
	    const char *user, struct vm_def *vd);
/*
 * import-launchd: if vd's command (as file's job has it) is a
 * hypervisor's own start, replace vd's driver and commands with the
 * shortcut's expansion, say so on stderr, and put the shortcut's add
 * options in line ("--vmware X.vmx --vmrun --tool P"): 1. 0 if it is no
 * such command (line empty); an exit code after saying why.
 */
int	 shortcuts_import(const char *file, struct vm_def *vd, char *line,
	    size_t linelen);

/* cmd-vmx-check.c (issue 12): add --vmware's check of the .vmx. */
/*
 * What vmx-check would say of file, for a VM stopped with stop and
 * suspended with suspend (0: not checked), printed as "vmsched: what:
 * FILE:LINE: ... (a warning)" on stderr; a file that cannot be read is a
 * warning too. The number of warnings.
 */
size_t	 vmx_warnings(const char *what, const char *file, int stop,
	    int suspend);

#endif

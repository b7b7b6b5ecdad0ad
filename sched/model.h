/*
 * model.h: what vmsched is about, as plain C values. A VM definition
 * (struct vm_def) and the pure functions that parse and format its values,
 * the dependency graph's planner, how a run ended, the event types and the
 * webhook's filter and retry verdicts, and the clocks. Both the store
 * (db/) and the scheduler (sched/) include it; it includes neither, so the
 * store does not depend on the scheduler. No SQL, no processes here.
 */
#ifndef VMSCHED_MODEL_H
#define VMSCHED_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMSCHED_VERSION	"0.1.0"
#define VM_NAME_MAX	64

enum restart_policy {
	RESTART_ALWAYS,
	RESTART_ON_FAILURE,
	RESTART_NEVER,
};

enum gate_kind {
	GATE_PATH,	/* a path exists */
	GATE_CMD,	/* /bin/sh -c CMD exits 0 */
	GATE_TCP,	/* HOST:PORT accepts a connection */
};

struct gate {
	enum gate_kind	 g_kind;
	char		*g_arg;
};

/* A list of strings; owns them. */
struct strv {
	char	**sv_v;		/* sv_n strings, then NULL */
	size_t	  sv_n;
};

/*
 * Issue 12: how a VM is run and watched (DESIGN.md, "VM drivers"). The
 * exec driver keeps a foreground process as the daemon's child; the
 * detached driver starts the VM with a command that returns at once and
 * knows it from a pid file, a status command, or both.
 */
enum vm_driver {
	DRV_EXEC,	/* a foreground child: waitpid, signals */
	DRV_DETACHED,	/* commands that return at once */
};
/* The detached driver's commands besides the start (vd_argv). */
enum vm_cmd {
	CMD_STATUS,	/* is it running: its output or exit code says */
	CMD_STOP,	/* ask it to shut down */
	CMD_KILL,	/* end it, once --stop-timeout is over */
	CMD_SUSPEND,	/* save (or pause) it */
	CMD_RESUME,	/* go on after a suspend that left it paused */
	CMD_N
};
/* What a status command's answer means. */
enum vstatus {
	VS_UNKNOWN,	/* no rule matched: nothing is concluded */
	VS_RUNNING,
	VS_STOPPED,	/* off: its guest shut it down, or it was stopped */
	VS_SUSPENDED,	/* saved or paused */
	VS_CRASHED,
};

/*
 * A VM definition as stored. Strings are owned by the struct and released by
 * vm_def_free(); NULL means "not set" for optional ones.
 */
struct vm_def {
	char			 vd_name[VM_NAME_MAX + 1];
	struct strv		 vd_argv;	/* the command, argv[0] first */
	char			*vd_cwd;	/* working directory */
	char			*vd_user;	/* run-as user */
	struct strv		 vd_env;	/* "K=V", keys unique */
	struct strv		 vd_after;	/* hard dependencies, by name */
	struct gate		*vd_gates;	/* start gates, in order */
	size_t			 vd_ngates;
	int			 vd_order;	/* boot order, lower first */
	enum restart_policy	 vd_restart;
	unsigned char		 vd_success[32];	/* bit n: exit n is success */
	int64_t			 vd_wait_timeout_ms;
	int64_t			 vd_up_delay_ms;
	char			*vd_ready_tcp;	/* HOST:PORT, or NULL */
	int			 vd_stop_signal;
	int			 vd_suspend_signal;
	int64_t			 vd_stop_timeout_ms;	/* 0: never SIGKILL */
	int64_t			 vd_backoff_initial_ms;
	double			 vd_backoff_factor;
	int64_t			 vd_backoff_max_ms;
	int64_t			 vd_backoff_reset_ms;
	int			 vd_max_failures;
	int			 vd_enabled;
	char			*vd_log_path;	/* NULL: next to the database */
	/* issue 12: the driver, and the detached driver's ways */
	enum vm_driver		 vd_driver;
	struct strv		 vd_cmd[CMD_N];	/* each an argv; empty: none */
	char			*vd_pid_file;	/* the VM's pid, or NULL */
	int64_t			 vd_status_interval_ms;	/* between status runs */
	struct strv		 vd_status_map;	/* "STATE=PATTERN", in order */
	int64_t			 vd_cmd_timeout_ms;	/* each command at most */
};

/* vmdef.c */
/* Fill *vd with DESIGN.md's defaults and no name or command. */
void	 vm_def_init(struct vm_def *vd);
/* Release everything *vd owns and reset it to defaults. */
void	 vm_def_free(struct vm_def *vd);
/* Append a copy of s; 0, or -1 with errno ENOMEM. */
int	 strv_push(struct strv *sv, const char *s);
/* Free every string and empty the list. */
void	 strv_clear(struct strv *sv);
/* Index of the "K=V" entry whose key is the key of kv (up to '='), or -1. */
ssize_t	 strv_find_key(const struct strv *sv, const char *kv);
/* Append a gate with a copy of arg; 0, or -1 with errno ENOMEM. */
int	 vm_def_add_gate(struct vm_def *vd, enum gate_kind kind, const char *arg);
/* Drop every gate of one kind. */
void	 vm_def_clear_gates(struct vm_def *vd, enum gate_kind kind);
/* Where VM logs go by default: logs/ beside the database. 0 or -1. */
int	 vm_log_dir(const char *dbpath, char *buf, size_t len);
/* vd's log file: its --log-file, or <log dir>/<name>.log. 0 or -1. */
int	 vm_def_log_path(const struct vm_def *vd, const char *dbpath,
	    char *buf, size_t len);
/* Whether exit code (0-255) means success for vd. */
int	 vm_def_success(const struct vm_def *vd, int code);
/* Replace *dst with a copy of src; 0, or -1 with errno ENOMEM. */
int	 strv_copy(struct strv *dst, const struct strv *src);

/*
 * status.c (issue 12): the detached driver's words and what a status
 * command's answer means. Pure functions.
 */
/* "exec", "detached"; "status", "stop", ...; "running", ...: static. */
const char	*vm_driver_name(enum vm_driver d);
const char	*vm_cmd_name(enum vm_cmd c);
const char	*vstatus_name(enum vstatus st);
/* The driver or status called name: 0, or -1 if there is none. */
int	 vm_driver_parse(const char *name, enum vm_driver *d);
int	 vstatus_parse(const char *name, enum vstatus *st);
/*
 * Check a --status-map rule: STATE=PATTERN, STATE one of running,
 * stopped, suspended, crashed; PATTERN a shell glob matched against a
 * line of the status command's output, or exit:N (its exit code N,
 * 0-255). 0, or -1 with why.
 */
int	 status_rule_check(const char *rule, const char **why);
/* A line of a status command's output this long or longer matches no
 * rule. */
#define STATUS_LINE_MAX	1024
/*
 * What a status command that exited with code (-1: killed, timed out)
 * and printed out[0..len) says under map (rules as status_rule_check
 * takes them, first match wins; an output rule matches a line of output
 * only when code is 0; empty output is one empty line). An empty map is
 * "exit 0 is running, any other exit stopped". The matched line (or
 * "exit N") goes to what (cut to whatlen). Returns the state, VS_UNKNOWN
 * when no rule matches.
 */
enum vstatus	 status_decide(const struct strv *map, int code,
	    const char *out, size_t len, char *what, size_t whatlen);
/*
 * Whether vd's driver settings hold together (a detached VM has a pid
 * file or a status command; a status map has a status command to read):
 * 0, or -1 with why.
 */
int	 vm_def_check(const struct vm_def *vd, const char **why);
/*
 * How vmsched knows a VM lives, in words for list and show: NULL for the
 * exec driver ("exec"), else "pid file P", "status every 5s" or both.
 * Into buf; returns buf, or NULL.
 */
const char	*vm_liveness(enum vm_driver d, const char *pid_file,
	    int has_status, int64_t interval_ms, char *buf, size_t len);

/* value.c: parse and format the values of definitions and options. */
/* Each parser returns 0, or -1 with a reason for the operator in *why. */
int	 value_name(const char *s, const char **why);
int	 value_duration(const char *s, int64_t *ms, const char **why);
int	 value_signal(const char *s, int *sig, const char **why);
int	 value_int(const char *s, long min, long max, long *out,
	    const char **why);
int	 value_double(const char *s, double min, double max, double *out,
	    const char **why);
/* A list of exit codes "0,143" into a 256-bit set (bit n: code n). */
int	 value_codes(const char *s, unsigned char set[32], const char **why);
int	 value_hostport(const char *s, const char **why);
int	 value_env(const char *s, const char **why);
int	 value_restart(const char *s, enum restart_policy *rp,
	    const char **why);
/* Names for values; static strings. */
const char	*value_restart_name(enum restart_policy rp);
const char	*value_gate_name(enum gate_kind kind);
/* "TERM" for SIGTERM, or the number as text in buf. */
const char	*value_signame(int sig, char *buf, size_t len);
/* "3m12s", "450ms", "0s" into buf; returns buf. */
char	*value_fmt_duration(int64_t ms, char *buf, size_t len);
/* Local ISO-8601 ("2026-11-27 10:56:50") into buf; returns buf. */
char	*value_fmt_time(int64_t ms, char *buf, size_t len);
/*
 * A --since value: a duration ago ("2h") or a local date or date and time
 * ("2026-11-27", "2026-11-27T10:00"), as Unix ms given now_ms.
 */
int	 value_since(const char *s, int64_t now_ms, int64_t *ms,
	    const char **why);

/*
 * A VM's states (DESIGN.md, "The daemon"), as the daemon records them, and
 * what the operator wants of it. vmdef.c names them.
 */
enum vm_state {
	VM_DISABLED,	/* not running, left out of boot */
	VM_STOPPED,	/* not running */
	VM_WAITING,	/* to start: waits for its wave, dependencies, gates */
	VM_STARTING,	/* its driver is starting it */
	VM_RUNNING,	/* its process runs, not up yet */
	VM_UP,		/* running for --up-delay and, with --ready-tcp, ready */
	VM_BACKOFF,	/* ended; starts again after its backoff */
	VM_FAILED,	/* crash-looping: down until start or reset */
	VM_BLOCKED,	/* to start, but a dependency will not come up */
	VM_STOPPING,	/* asked to stop; SIGKILL after its stop timeout */
	VM_SUSPENDING,	/* asked to suspend; given all the time it needs */
	VM_SUSPENDED,	/* ended after suspend; down until start */
	VM_NSTATES
};
enum vm_want {
	WANT_UP,	/* start it (at boot, on start) and keep it by policy */
	WANT_DOWN,	/* stopped */
	WANT_SUSPENDED,	/* suspended (or stopped, if it was not running) */
};
/* "stopped" for VM_STOPPED, ...; static strings. */
const char	*vm_state_name(enum vm_state st);
const char	*vm_want_name(enum vm_want w);
/* The state or want called name: 0, or -1 if there is none. */
int	 vm_state_parse(const char *name, enum vm_state *st);
int	 vm_want_parse(const char *name, enum vm_want *w);

/* plan.c: the dependency graph. */
struct plan_edge {
	size_t	pe_from;	/* this VM ... */
	size_t	pe_to;		/* ... starts after this one */
};
/*
 * Look for a cycle among n nodes. Returns 0 if there is none; 1 if there
 * is one, with the node indices along it in cycle[0..*len-1] (the first one
 * repeated at the end, so "a -> b -> a" is 3 entries; cycle holds n + 1);
 * -1 with errno ENOMEM.
 */
int	 plan_find_cycle(size_t n, const struct plan_edge *e, size_t ne,
	    size_t *cycle, size_t *len);
/*
 * The boot waves of n VMs with boot order order[i] and the dependency
 * edges e. Orders form groups, lower first; a VM that depends on a VM of a
 * higher order joins that VM's group; inside a group, a VM comes a wave
 * after each VM it depends on. Fills wave[i] (1 first) and returns the
 * number of waves; -1 with errno EINVAL for a cycle, ENOMEM. Shutdown is
 * the same waves, last first.
 */
int	 plan_waves(size_t n, const int *order, const struct plan_edge *e,
	    size_t ne, int *wave);

/* policy.c: how a run ended, as stored and as policy sees it. */
enum run_reason {
	RUN_EXITED,		/* exited by itself */
	RUN_CRASHED,		/* killed by a signal nobody asked for */
	RUN_STOPPED,		/* ended after stop (or shutdown) */
	RUN_SUSPENDED,		/* ended after suspend */
	RUN_KILLED,		/* SIGKILLed after its stop timeout */
	RUN_EXEC_FAILED,	/* never ran: fork, exec, log, cwd or user */
	RUN_GATE_TIMEOUT,	/* never ran: a start gate stayed shut */
	RUN_ADOPTED,		/* adopted from a dead daemon: status unknown */
};

/* How a run ended, as policy_decide sees it. */
struct run_end {
	enum run_reason	 re_reason;
	int		 re_code;	/* exit code, or -1 */
	int		 re_signal;	/* terminating signal, or 0 */
	int		 re_requested;	/* stop/suspend/restart asked for it */
	int64_t		 re_ran_ms;	/* how long the process ran */
	int64_t		 re_up_ms;	/* how long it had been up */
	const char	*re_status;	/* issue 12: what a status command
					   said, or NULL */
};

/* "exited", "killed-after-timeout", ...: the reason as stored. */
const char	*run_reason_name(enum run_reason r);

/* hookpolicy.c: the webhook's pure decisions. */
/* Every event type vmsched emits, NULL-terminated. */
extern const char *const hook_event_names[];
/*
 * Check an --events list: comma-separated names ("vm.failed"), prefixes
 * ("vm.*") and "*", each matching some event of hook_event_names. 0 with
 * the list, blanks removed, in buf; -1 with the reason in why.
 */
int	 hook_filter_parse(const char *list, char *buf, size_t len, char *why,
	    size_t whylen);
/*
 * Whether event passes filter, a list hook_filter_parse accepted; NULL:
 * the default, every event but the audit ones (vm.defined, vm.changed,
 * vm.removed).
 */
int	 hook_filter_match(const char *filter, const char *event);

/* Retry timing; HOOK_* are the defaults. */
#define HOOK_RETRY_INITIAL_MS	1000
#define HOOK_RETRY_MAX_MS	300000		/* 5 minutes */
#define HOOK_GIVE_UP_MS		86400000	/* 24 hours after the event */
struct hook_policy {
	int64_t	 hp_initial_ms;	/* delay after the first failed attempt */
	int64_t	 hp_max_ms;	/* doubling stops here */
	int64_t	 hp_give_up_ms;	/* failed this long after the event */
};
enum hook_verdict {
	HOOK_DELIVERED,		/* 2xx: done */
	HOOK_RETRY,		/* try again at *next_at */
	HOOK_FAILED,		/* permanent, or past the give-up time */
};
/*
 * Judge one attempt: status is the HTTP status, 0 when there was none
 * (connection refused, DNS, TLS, timeout); retry_after_ms the receiver's
 * Retry-After (0 or less: none); attempts counts this one. 2xx delivers;
 * 0, 408, 429 and 5xx retry after initial * 2^(attempts-1) capped at max
 * (or after Retry-After), at the latest at the give-up time, one last try;
 * other 3xx/4xx, and any failure at or past the give-up time, fail.
 */
enum hook_verdict hook_retry(const struct hook_policy *hp, long status,
	    int64_t retry_after_ms, int attempts, int64_t event_time,
	    int64_t now, int64_t *next_at);

/* An outbox event as the sender needs it; strings owned, NULL if absent. */
struct hook_event {
	int64_t	 he_id;		/* the event id: X-Vmsched-Delivery */
	int64_t	 he_time;	/* Unix ms */
	char	*he_event;	/* "vm.exited" */
	char	*he_vm;		/* NULL: not about one VM */
	long	 he_pid;	/* -1: none */
	int	 he_exit_code;	/* -1: none */
	char	*he_signal;	/* "KILL" */
	char	*he_reason;	/* "crashed" */
	char	*he_detail;	/* errno text and the like */
	char	*he_rule;	/* the rule that decided */
	char	*he_why;	/* what it waits for or is blocked by */
	int	 he_restarts;	/* -1: none */
	int	 he_failures;	/* consecutive; -1: none */
	int64_t	 he_delay_ms;	/* restart delay; -1: none */
	int	 he_attempts;	/* delivery attempts so far */
	int64_t	 he_next_at;	/* next attempt due, Unix ms; 0: now */
};
/* Free the strings of ev and reset it to "absent" values. */
void	 hook_event_clear(struct hook_event *ev);
/* The one-line human summary the slack format sends, into buf. */
void	 hook_summary(const struct hook_event *ev, const char *host,
	    char *buf, size_t len);
/* url with a password in its user info replaced by "***", into buf. */
void	 hook_url_redact(const char *url, char *buf, size_t len);

/* util.c */
/* Wall-clock and monotonic time in milliseconds. */
int64_t	 now_ms(void);
int64_t	 mono_ms(void);

/*
 * text.c: text as vmsched takes it in and shows it (issue 10). What it
 * stores is UTF-8, refused at input otherwise; what still reaches an
 * output is repaired (JSON) or escaped (terminal). Pure functions.
 */
/*
 * Whether s[0..len) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). NUL bytes are valid here: callers
 * that hold C strings check for them apart.
 */
int	 text_utf8(const char *s, size_t len);
/*
 * s[0..len) made valid UTF-8 into out, which holds 3 * len bytes: each
 * byte that does not belong to a valid sequence becomes U+FFFD. Returns
 * the bytes written; adds no NUL.
 */
size_t	 text_utf8_fix(const char *s, size_t len, char *out);
/*
 * s as a terminal may show it, into buf of len bytes: control characters
 * (C0, DEL, C1), line separators and bidirectional overrides escaped as
 * \n \t \r \xNN \uNNNN, bytes that are not UTF-8 as \xNN, everything else
 * as it is; cut at a character and ended with "..." when it does not fit.
 * Returns buf.
 */
char	*text_shown(const char *s, char *buf, size_t len);
/* text_shown of the whole of s, malloc'ed; NULL with errno ENOMEM. */
char	*text_escape(const char *s);

#endif

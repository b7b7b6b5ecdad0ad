/*
 * sched.h: the scheduler's model and policy. A VM definition (struct
 * vm_def), the pure functions that parse and format its values, the planner
 * that orders VMs and refuses dependency cycles, and the logging module.
 * Everything here is plain C over plain values: no SQL, no processes.
 */
#ifndef VMSCHED_SCHED_H
#define VMSCHED_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* policy.c: what follows the end of a run. */
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
};

/* What the supervisor does next, and why. */
struct decision {
	int	 d_restart;		/* start it again */
	int64_t	 d_delay_ms;		/* after this long; -1: no restart */
	int	 d_failures;		/* consecutive failures now */
	int	 d_breaker;		/* crash-loop breaker tripped: failed */
	char	 d_rule[160];		/* the rule that fired, for log */
};

/* Token bucket for the fleet-wide restart rate. */
struct ratelimit {
	double	 rl_rate;		/* tokens per second; <= 0: unlimited */
	double	 rl_burst;		/* bucket size */
	double	 rl_tokens;		/* tokens now */
	int64_t	 rl_last;		/* when rl_tokens was computed (ms) */
};

/*
 * The backoff before the n-th consecutive failure's restart:
 * min(max, initial * factor^(n-1)), then varied by jitter (-1..1) times 10%.
 */
int64_t	 policy_backoff(const struct vm_def *vd, int n, double jitter);
/*
 * Decide what follows a run of vd that ended as re, given the consecutive
 * failures before it; jitter in -1..1 (random in the daemon, fixed in
 * tests). Fills *d.
 */
void	 policy_decide(const struct vm_def *vd, int failures,
	    const struct run_end *re, double jitter, struct decision *d);
/* "exited", "killed-after-timeout", ...: the reason as stored. */
const char	*run_reason_name(enum run_reason r);
void	 ratelimit_init(struct ratelimit *rl, double per_sec, double burst,
	    int64_t now_ms);
/* Take a token at now_ms: 0 if granted, else how many ms until one is. */
int64_t	 ratelimit_take(struct ratelimit *rl, int64_t now_ms);

/*
 * The driver interface: how a VM is started and signalled. The exec driver
 * (drv-exec.c) keeps the VM as a foreground child; a detached driver (vmrun,
 * VBoxManage, virsh) will start with a command and watch a pid file.
 */
struct spawn {
	char *const	*sp_argv;	/* the command; argv[0] searched in PATH */
	char		**sp_envp;	/* the whole environment */
	const char	*sp_cwd;	/* NULL: stay where the daemon is */
	const char	*sp_log;	/* stdout and stderr are appended here */
	int		 sp_setuser;	/* switch to uid/gid/groups (root only) */
	uid_t		 sp_uid;
	gid_t		 sp_gid;
	gid_t		*sp_groups;
	int		 sp_ngroups;
};

struct driver {
	const char	*drv_name;
	/* Start sp; 0 with *pid set, or -1 with the reason in why. */
	int		(*drv_start)(const struct spawn *sp, pid_t *pid,
			    char *why, size_t len);
	/* Send sig to the VM's processes; 0 or -1 with errno. */
	int		(*drv_signal)(pid_t pid, int sig);
};
extern const struct driver driver_exec;

/* supervise.c: the daemon. */
struct sched_opts {
	const char	*so_dbpath;
	double		 so_restart_rate;	/* fleet restarts per second */
	double		 so_restart_burst;	/* ... allowed in a burst */
	int		 so_max_parallel;	/* VMs between start and up */
	const char	*so_self;		/* this binary, for probes */
};
#define SCHED_ERR	(-1)	/* the daemon's machinery failed */
#define SCHED_BUSY	(-2)	/* another daemon holds the database */
/*
 * Run the daemon on opts->so_dbpath until SIGTERM or SIGINT has stopped
 * every VM: 0, SCHED_BUSY, or SCHED_ERR (after logging why).
 */
int	 sched_daemon(const struct sched_opts *opts);
/* Whether a daemon holds the lock of the database at dbpath. */
int	 sched_lock_held(const char *dbpath);

/* probe.c: whether a start gate is open; 0, or -1 with why. Blocking:
 * the daemon runs them in a child (`vmsched probe`), never in its loop. */
int	 probe_path(const char *path, char *why, size_t len);
int	 probe_tcp(const char *hostport, int timeout_ms, char *why,
	    size_t len);

/* proc.c: processes and the boot. */
/* A process's start time (clock ticks since boot on Linux); 0 or -1. */
int	 proc_start_time(pid_t pid, int64_t *start);
/* Whether pid is alive and is still the process that started at start. */
int	 proc_alive(pid_t pid, int64_t start);
/* This boot's id ($VMSCHED_BOOT_ID overrides, for tests); 0 or -1. */
int	 proc_boot_id(char *buf, size_t len);

/* launchd.c: launchd property lists (libplist lives only there). */
/*
 * Map a launchd job, a property list of len bytes (XML or binary), to a VM
 * definition: vd (vm_def_init'ed by the caller) is filled, and every key
 * not mapped exactly adds a sentence to warnings saying what was done and
 * what the operator could do instead. Returns 0; or -1 with the reason in
 * err (errno EINVAL: not a dictionary, no Label, no program, a value of
 * the wrong type; ENOMEM). vd may be partly filled on -1: free it.
 */
int	 launchd_to_def(const void *buf, size_t len, struct vm_def *vd,
	    struct strv *warnings, char *err, size_t errlen);
/*
 * A VM name from a launchd Label (DESIGN.md's rule): each run of bytes a
 * name cannot hold becomes one '-', a leading '-' or '.' is dropped, and
 * it is cut at VM_NAME_MAX. 0 if name is label itself, 1 if it had to
 * change, -1 if nothing usable is left.
 */
int	 launchd_name(const char *label, char *name, size_t len);
/* The LaunchDaemon that runs vmsched at boot. */
struct launchd_daemon {
	const char		*ld_label;
	const char *const	*ld_argv;	/* NULL-terminated */
	const char		*ld_user;	/* UserName, or NULL: root */
	const char		*ld_log;	/* StandardErrorPath */
	int64_t			 ld_exit_timeout; /* s; 0: never SIGKILL */
};
/*
 * The LaunchDaemon plist for ld as XML: RunAtLoad and KeepAlive true,
 * ExitTimeOut, AbandonProcessGroup. *xml is NUL-terminated and malloc'ed;
 * the caller frees it. 0, or -1 with errno ENOMEM.
 */
int	 launchd_export(const struct launchd_daemon *ld, char **xml);

/* log.c: messages for operators, on stderr or syslog. */
void	 log_init(const char *progname, int use_syslog);
void	 log_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* vmx.c: the settings of a VMware .vmx file an unattended VM needs. */
#define VMX_NREQUIRED	3	/* msg.autoAnswer, signal.powerOffOnTERM/...HUP */
enum vmx_kind {
	VMX_BADLINE,	/* the line does not parse (vf_why) */
	VMX_NOTTRUE,	/* a required key is set to something else */
	VMX_DUPLICATE,	/* a key defined again (vf_first: where first) */
	VMX_MISSING,	/* a required key is absent (vf_line 0) */
};
struct vmx_finding {
	enum vmx_kind	 vf_kind;
	size_t		 vf_line;	/* 1-based; 0: not on a line */
	size_t		 vf_first;	/* VMX_DUPLICATE: the first definition */
	int		 vf_req;	/* the required key concerned, or -1 */
	int		 vf_fixable;	/* vmx_fix repairs it */
	const char	*vf_why;	/* VMX_BADLINE: what is wrong (static) */
};
struct vmx_line;
/* A parsed file; points into the caller's buffer, which must outlive it. */
struct vmx {
	const char		*vx_buf;	/* the file's bytes */
	size_t			 vx_len;
	struct vmx_line		*vx_lines;	/* one per line (opaque) */
	size_t			 vx_nlines;
	size_t			 vx_nbad;	/* lines that do not parse */
	struct vmx_finding	*vx_find;	/* vmx_check's, by line */
	size_t			 vx_nfind;
	int			 vx_checked;	/* vmx_check has run */
	int			 vx_active[VMX_NREQUIRED];	/* keys needed */
};
/*
 * Split buf[0..len) into lines and parse each (the format and the fix
 * rules are described at the top of vmx.c). Lines that do not parse are
 * counted in vx_nbad, not failures. 0, or -1 with errno ENOMEM. Release
 * with vmx_free even after a failure.
 */
int	 vmx_parse(struct vmx *vx, const char *buf, size_t len);
/*
 * Fill vx_find with what is wrong, ordered by line (missing keys last):
 * every unparseable line (and then nothing else), msg.autoAnswer missing or
 * not TRUE, signal.powerOffOnTERM the same when stop_sig is SIGTERM,
 * signal.suspendOnHUP when suspend_sig is SIGHUP, and each later definition
 * of a key (case-insensitive). 0, or -1 with errno ENOMEM.
 */
int	 vmx_check(struct vmx *vx, int stop_sig, int suspend_sig);
/*
 * The file's text with every fixable finding of vmx_check repaired and
 * nothing else changed; *out is malloc'ed (NUL-terminated, *outlen bytes),
 * the caller frees it. Idempotent. -1 with errno EINVAL before vmx_check or
 * when a line does not parse, ENOMEM.
 */
int	 vmx_fix(const struct vmx *vx, char **out, size_t *outlen);
/*
 * One finding in words for the operator, without file or line: what is
 * wrong, or with fixed set what vmx_fix did about it. Returns buf.
 */
char	*vmx_describe(const struct vmx *vx, const struct vmx_finding *f,
	    int fixed, char *buf, size_t len);
/* Release what vmx_parse and vmx_check allocated. */
void	 vmx_free(struct vmx *vx);

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

/* hook.c: the webhook sender (libcurl and libcrypto live only here). */
struct hook;
struct db;
/*
 * Start the sender: a thread with its own connection to the database at
 * dbpath, delivering pending events in order. NULL with the reason in err
 * if the database cannot be opened or the thread not started.
 */
struct hook	*hook_start(const char *dbpath, char *err, size_t errlen);
/* New events were committed: look now. Cheap; never blocks on I/O. */
void	 hook_wake(struct hook *h);
/*
 * Stop the sender, abandoning (not counting) a request in flight, and free
 * it. Returns within a few seconds even if the receiver hangs; NULL is
 * ignored.
 */
void	 hook_stop(struct hook *h);
/* The result of one request. */
struct hook_try {
	long	 ht_status;		/* HTTP status; 0: no answer */
	int	 ht_timeout;		/* no answer in time */
	int64_t	 ht_retry_after_ms;	/* Retry-After; 0: none */
	char	 ht_error[256];		/* why it failed, for the operator */
};
/*
 * vmsched webhook test: record a webhook.test event (uid: who asks) and
 * send it now, once, to the configured webhook, waiting for the answer;
 * the event ends delivered or failed. 0 with *ht filled whatever the
 * receiver said; a db status (db->db_err says why; DB_NOTFOUND: no webhook
 * is set) if it could not be tried.
 */
int	 hook_test(struct db *db, long uid, struct hook_try *ht);
/* Whether url is an absolute http:// or https:// URL with a host. */
int	 hook_url_check(const char *url, const char **why);
/* HMAC-SHA256 of msg with key, as 64 lowercase hex digits and a NUL. */
int	 hook_sign(const void *key, size_t keylen, const void *msg,
	    size_t len, char hex[65]);

/* util.c */
/* Wall-clock and monotonic time in milliseconds. */
int64_t	 now_ms(void);
int64_t	 mono_ms(void);

#endif

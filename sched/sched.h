/*
 * sched.h: the scheduler. Its restart policy, the driver interface and the
 * exec driver, the daemon, gate probes, what the OS says about processes,
 * the launchd, .vmx and logging modules, and the webhook sender. The model
 * it works on (definitions, values, run ends, events) is in model.h.
 */
#ifndef VMSCHED_SCHED_H
#define VMSCHED_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "model.h"

/* policy.c: what follows the end of a run. */
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
 * the caller frees it. 0, or -1 with errno ENOMEM, or EINVAL when a value
 * is not text an XML document may hold (not UTF-8, a control character):
 * the plist written is always well-formed.
 */
int	 launchd_export(const struct launchd_daemon *ld, char **xml);

/*
 * plistbound.c (issue 10): what a plist may hold, judged on its bytes
 * before libplist parses it. No launchd job comes near these.
 */
#define LAUNCHD_SIZE_MAX	(4 * 1024 * 1024)	/* bytes of the file, and
							 * of its strings and data */
#define LAUNCHD_DEPTH_MAX	32	/* arrays and dictionaries nested */
#define LAUNCHD_VALUES_MAX	65536	/* keys and values in all */
/*
 * Whether the property list buf[0..len) stays within those limits once
 * libplist builds it (every use of a shared binary object counted, as
 * libplist copies it), holds no NUL byte in a key or string, no broken
 * UTF-16, and no XML string that would take libplist quadratic time to
 * unescape. Linear time, no allocation, no recursion. 0, or -1 with the
 * reason, naming the limit, in why.
 */
int	 launchd_bounds(const void *buf, size_t len, char *why,
	    size_t whylen);

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

#endif
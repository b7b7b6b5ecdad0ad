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

/* util.c */
/* Wall-clock and monotonic time in milliseconds. */
int64_t	 now_ms(void);
int64_t	 mono_ms(void);

#endif

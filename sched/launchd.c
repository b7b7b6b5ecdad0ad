/*
 * launchd.c: launchd property lists, the only file that knows libplist.
 * launchd_to_def maps a job (XML or binary plist) to a VM definition and a
 * list of warnings, purely: every key is either mapped, or mapped with a
 * warning saying what differs, or reported as not imported with what the
 * operator could do instead; nothing is dropped silently. launchd_export
 * writes the LaunchDaemon plist that starts `vmsched daemon` at boot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <plist/plist.h>

#include "sched.h"

#define SECONDS_MAX	(366LL * 24 * 3600)	/* as value_duration: a year */
#define SHOWN_MAX	96		/* bytes of a value in a message */

/* What a launchd KeepAlive or LaunchOnlyOnce asks for, weakest first. */
enum keep {
	KEEP_NONE,		/* launchd runs it and does not restart it */
	KEEP_ON_FAILURE,
	KEEP_ALWAYS,
};

/* One mapping in progress. */
struct job {
	plist_t		 j_root;	/* the job's dictionary */
	struct vm_def	*j_vd;		/* what it becomes */
	struct strv	*j_warn;	/* what the operator should know */
	char		*j_err;		/* why it cannot be imported */
	size_t		 j_errlen;
	int		 j_oom;		/* a warning could not be kept */
	enum keep	 j_keep;	/* restart wanted by KeepAlive */
	int		 j_atload;	/* launchd would start it at load */
};

/* Keys launchd knows that have no counterpart, and what to do instead. */
static const struct {
	const char	*u_key;
	const char	*u_advice;
} unmapped[] = {
	{ "WatchPaths", "vmsched starts VMs at boot, not when a path "
	    "changes; --wait-path PATH makes each start wait for PATH" },
	{ "QueueDirectories", "vmsched starts VMs at boot, not when a "
	    "directory fills; --wait-path PATH makes each start wait for "
	    "PATH" },
	{ "StartInterval", "vmsched does not run jobs on a schedule; a cron "
	    "entry or a systemd timer running `vmsched restart NAME` can" },
	{ "StartCalendarInterval", "vmsched does not run jobs on a "
	    "schedule; a cron entry or a systemd timer running `vmsched "
	    "restart NAME` can" },
	{ "StartOnMount", "vmsched does not start jobs on mounts; "
	    "--wait-path /Volumes/NAME makes each start wait for the volume" },
	{ "Sockets", "no socket activation: the VM opens its own sockets; "
	    "--ready-tcp HOST:PORT tells vmsched when it listens" },
	{ "MachServices", "Mach services are not supported; the VM runs as a "
	    "plain process" },
	{ "inetdCompatibility", "no inetd mode: a VM is one long-lived "
	    "process" },
	{ "TimeOut", "no idle timeout: a VM runs until it is stopped" },
	{ "Nice", "run the command through a wrapper: nice -n N CMD..." },
	{ "Umask", "run the command through a wrapper script that sets the "
	    "umask and execs it" },
	{ "RootDirectory", "no chroot: run the command through chroot DIR "
	    "CMD..." },
	{ "SoftResourceLimits", "set limits in a wrapper script (ulimit ...; "
	    "exec CMD...)" },
	{ "HardResourceLimits", "set limits in a wrapper script (ulimit ...; "
	    "exec CMD...)" },
	{ "ProcessType", "no scheduling class: nice or ionice in a wrapper "
	    "does that" },
	{ "LowPriorityIO", "run the command through ionice (Linux) or "
	    "taskpolicy (macOS)" },
	{ "LowPriorityBackgroundIO", "run the command through ionice "
	    "(Linux) or taskpolicy (macOS)" },
	{ "AbandonProcessGroup", "ignored: vmsched runs each VM in its own "
	    "session and signals only the process it started" },
	{ "EnableGlobbing", "arguments are passed as they are, not "
	    "expanded: expand them in the plist, or run /bin/sh -c" },
	{ "EnableTransactions", "ignored (a macOS process-lifetime hint)" },
	{ "EnablePressuredExit", "ignored (a macOS process-lifetime hint)" },
	{ "Debug", "ignored (launchd's own logging)" },
	{ "WaitForDebugger", "ignored" },
	{ "LimitLoadToHosts", "vmsched loads every definition; define the "
	    "VM only on the hosts that run it" },
	{ "LimitLoadFromHosts", "vmsched loads every definition; define the "
	    "VM only on the hosts that run it" },
	{ "LimitLoadToSessionType", "ignored: vmsched runs VMs from a system "
	    "daemon" },
	{ "LimitLoadToHardware", "vmsched loads every definition; define "
	    "the VM only on the hosts that run it" },
	{ "LimitLoadFromHardware", "vmsched loads every definition; define "
	    "the VM only on the hosts that run it" },
	{ "SessionCreate", "ignored: no macOS security session" },
	{ "LegacyTimers", "ignored" },
	{ "ServiceIPC", "ignored (obsolete)" },
	{ "HopefullyExitsFirst", "vmsched stops VMs in reverse boot order: "
	    "--order sets it" },
	{ "HopefullyExitsLast", "vmsched stops VMs in reverse boot order: "
	    "--order sets it" },
	{ "StandardInPath", "a VM gets no standard input file; a wrapper "
	    "(CMD < FILE) can give it one" },
	{ "AssociatedBundles", "ignored (macOS interface only)" },
	{ "ServiceDescription", "ignored (macOS interface only)" },
	{ "MaterializeDatalessFiles", "ignored" },
	{ "POSIXSpawnType", "ignored" },
	{ "BundleProgram", "give the executable's full path in Program or "
	    "ProgramArguments instead" },
};

/* Keys mapped below; every other key is reported. */
static const char *const mapped[] = {
	"Label", "Program", "ProgramArguments", "KeepAlive", "OnDemand",
	"RunAtLoad", "LaunchOnlyOnce", "Disabled", "UserName", "GroupName",
	"InitGroups", "WorkingDirectory", "EnvironmentVariables",
	"ExitTimeOut", "ThrottleInterval", "StandardOutPath",
	"StandardErrorPath",
};

/* s made fit for a message: control characters escaped, long ones cut. */
static const char *
shown(const char *s, char *buf, size_t len)
{
	return text_shown(s, buf, len);
}

static void
warning(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warning(struct job *j, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strv_push(j->j_warn, msg) == -1)
		j->j_oom = 1;
}

static int
fail(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record why the job cannot be imported; returns -1 with errno EINVAL. */
static int
fail(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->j_err, j->j_errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static int
oom(struct job *j)
{
	snprintf(j->j_err, j->j_errlen, "%s", strerror(ENOMEM));
	errno = ENOMEM;
	return -1;
}

/* "a string", "an integer": what a node is, for messages. */
static const char *
kind(plist_t node)
{
	switch (plist_get_node_type(node)) {
	case PLIST_BOOLEAN:
		return "a boolean";
	case PLIST_UINT:
		return "an integer";
	case PLIST_REAL:
		return "a real number";
	case PLIST_STRING:
		return "a string";
	case PLIST_ARRAY:
		return "an array";
	case PLIST_DICT:
		return "a dictionary";
	case PLIST_DATE:
		return "a date";
	case PLIST_DATA:
		return "data";
	case PLIST_UID:
		return "a UID";
	default:
		return "nothing usable";
	}
}

/*
 * The string in node, or NULL after fail() if it is not one or holds a
 * NUL byte. what names it in the message. Lives as long as the plist.
 */
static const char *
str(struct job *j, plist_t node, const char *what)
{
	const char *s;
	uint64_t len;

	if (plist_get_node_type(node) != PLIST_STRING) {
		fail(j, "%s: must be a string, not %s", what, kind(node));
		return NULL;
	}
	if ((s = plist_get_string_ptr(node, &len)) == NULL) {
		fail(j, "%s: cannot be read", what);
		return NULL;
	}
	if (strlen(s) != len) {
		fail(j, "%s: holds a NUL byte", what);
		return NULL;
	}
	return s;
}

/* The boolean in node into *b; -1 after fail() if it is not one. */
static int
boolean(struct job *j, plist_t node, const char *what, int *b)
{
	uint8_t v;

	if (plist_get_node_type(node) != PLIST_BOOLEAN)
		return fail(j, "%s: must be a boolean (<true/> or <false/>), "
		    "not %s", what, kind(node));
	plist_get_bool_val(node, &v);
	*b = v != 0;
	return 0;
}

/* A number of seconds, 0 to a year, into *ms. */
static int
seconds(struct job *j, plist_t node, const char *what, int64_t *ms)
{
	uint64_t u;
	int64_t v;

	if (plist_get_node_type(node) != PLIST_UINT)
		return fail(j, "%s: must be an integer number of seconds, "
		    "not %s", what, kind(node));
	plist_get_uint_val(node, &u);
	v = (int64_t)u;		/* libplist keeps negative numbers so */
	if (v < 0 || v > SECONDS_MAX)
		return fail(j, "%s: %lld is not a number of seconds from 0 "
		    "to a year", what, (long long)v);
	*ms = v * 1000;
	return 0;
}

/* What check_tree walks with: where it is, for messages. */
struct walk {
	char	*w_err;
	size_t	 w_errlen;
	char	 w_top[SHOWN_MAX];	/* the top-level key it is under */
};

static int
walk_fail(struct walk *w, const char *what)
{
	if (w->w_top[0] != '\0')
		snprintf(w->w_err, w->w_errlen, "%s: %s", w->w_top, what);
	else
		snprintf(w->w_err, w->w_errlen, "%s", what);
	errno = EINVAL;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_tree(struct walk *, plist_t, int);

/*
 * A dictionary's keys: each a key node, valid UTF-8, and none twice (a
 * binary plist can say a key twice; libplist keeps both, and which one a
 * lookup finds is an accident). Then each value.
 */
static int
check_dict(struct walk *w, plist_t dict, int depth)
{
	plist_dict_iter it = NULL;
	plist_t val, key;
	char **keys = NULL, **nk, *k;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	plist_dict_new_iter(dict, &it);
	if (it == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		val = NULL;
		plist_dict_next_item(dict, it, NULL, &val);
		if (val == NULL)
			break;
		key = plist_dict_item_get_key(val);
		if (key == NULL || plist_get_node_type(key) != PLIST_KEY) {
			rc = walk_fail(w, "a damaged property list: a "
			    "dictionary key that is not a string");
			break;
		}
		k = NULL;
		plist_get_key_val(key, &k);
		if (k != NULL && n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nk = realloc(keys, cap * sizeof(*keys))) == NULL) {
				free(k);
				k = NULL;
			} else
				keys = nk;
		}
		if (k == NULL) {
			errno = ENOMEM;
			rc = -1;
			break;
		}
		keys[n++] = k;
		if (!text_utf8(k, strlen(k))) {
			rc = walk_fail(w, "a key is not valid UTF-8");
			break;
		}
		if (depth == 0)
			shown(k, w->w_top, sizeof(w->w_top));
		if ((rc = check_tree(w, val, depth + 1)) == -1)
			break;
	}
	free(it);
	if (depth == 0)
		w->w_top[0] = '\0';
	if (rc == 0 && n > 1) {
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (i = 1; i < n && rc == 0; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0) {
				char a[SHOWN_MAX], msg[SHOWN_MAX + 64];

				snprintf(msg, sizeof(msg), "the key %s is "
				    "given twice in one dictionary",
				    shown(keys[i], a, sizeof(a)));
				rc = walk_fail(w, msg);
			}
	}
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

/*
 * Whether the tree under node is one the mapping may read: every string
 * valid UTF-8 (as XML plists must be, and binary ones are when not
 * damaged) with no NUL byte, every dictionary keyed by distinct strings.
 * launchd_bounds has already bounded its depth and size; depth guards
 * the recursion all the same. 0, or -1 with errno EINVAL (why in w) or
 * ENOMEM.
 */
static int
check_tree(struct walk *w, plist_t node, int depth)
{
	plist_array_iter ait = NULL;
	const char *s;
	plist_t val;
	uint64_t len = 0;
	int rc = 0;

	if (depth > LAUNCHD_DEPTH_MAX)
		return walk_fail(w, "a damaged property list: nested too deep");
	switch (plist_get_node_type(node)) {
	case PLIST_STRING:
		if ((s = plist_get_string_ptr(node, &len)) == NULL)
			return walk_fail(w, "a damaged property list: a "
			    "string that cannot be read");
		if (strlen(s) != len)
			return walk_fail(w, "a string holds a NUL byte");
		if (!text_utf8(s, len))
			return walk_fail(w, "a string is not valid UTF-8");
		return 0;
	case PLIST_ARRAY:
		plist_array_new_iter(node, &ait);
		if (ait == NULL) {
			errno = ENOMEM;
			return -1;
		}
		for (;;) {
			val = NULL;
			plist_array_next_item(node, ait, &val);
			if (val == NULL || (rc = check_tree(w, val,
			    depth + 1)) == -1)
				break;
		}
		free(ait);
		return rc;
	case PLIST_DICT:
		return check_dict(w, node, depth);
	default:
		return 0;
	}
}

/* The node under key, or NULL. */
static plist_t
get(struct job *j, const char *key)
{
	return plist_dict_get_item(j->j_root, key);
}

int
launchd_name(const char *label, char *name, size_t len)
{
	size_t i, n = 0;
	int ok, sub = 0, changed = 0;

	if (len == 0)
		return -1;
	for (i = 0; label[i] != '\0'; i++) {
		ok = (label[i] >= 'a' && label[i] <= 'z') ||
		    (label[i] >= 'A' && label[i] <= 'Z') ||
		    (label[i] >= '0' && label[i] <= '9') ||
		    label[i] == '.' || label[i] == '_' || label[i] == '-';
		/* A name starts with a letter, digit or '_'. */
		if (n == 0 && (!ok || label[i] == '.' || label[i] == '-')) {
			changed = 1;
			continue;
		}
		if (n + 1 >= len || n >= VM_NAME_MAX) {
			changed = 1;
			break;
		}
		if (ok) {
			name[n++] = label[i];
			sub = 0;
		} else {
			/* One '-' for a run of bytes a name cannot hold. */
			changed = 1;
			if (!sub)
				name[n++] = '-';
			sub = 1;
		}
	}
	name[n] = '\0';
	if (n == 0)
		return -1;
	return changed;
}

static int
map_label(struct job *j)
{
	char a[SHOWN_MAX], b[SHOWN_MAX];
	plist_t node;
	const char *label;
	int rc;

	if ((node = get(j, "Label")) == NULL)
		return fail(j, "no Label");
	if ((label = str(j, node, "Label")) == NULL)
		return -1;
	rc = launchd_name(label, j->j_vd->vd_name, sizeof(j->j_vd->vd_name));
	if (rc == -1)
		return fail(j, "Label '%s': no part of it can start a VM name "
		    "(A-Z a-z 0-9 . _ -)", shown(label, a, sizeof(a)));
	if (rc == 1)
		warning(j, "Label '%s' is not a valid VM name; imported as %s",
		    shown(label, a, sizeof(a)),
		    shown(j->j_vd->vd_name, b, sizeof(b)));
	return 0;
}

/* ProgramArguments item i (0 first) onto the command. */
static int
map_argument(struct job *j, plist_t item, uint32_t i, const char *program)
{
	char a[SHOWN_MAX], b[SHOWN_MAX], what[64];
	const char *s;

	snprintf(what, sizeof(what), "ProgramArguments item %u",
	    (unsigned)i + 1);
	if ((s = str(j, item, what)) == NULL)
		return -1;
	if (i == 0 && program != NULL) {
		/* launchd runs Program with argv[0] from here. */
		if (strcmp(s, program) != 0)
			warning(j, "ProgramArguments starts with '%s', not "
			    "Program '%s': vmsched runs Program with itself "
			    "as argv[0]", shown(s, a, sizeof(a)),
			    shown(program, b, sizeof(b)));
		return 0;
	}
	if (i == 0 && s[0] == '\0')
		return fail(j, "ProgramArguments: the first item (the program) "
		    "is empty");
	if (strv_push(&j->j_vd->vd_argv, s) == -1)
		return oom(j);
	return 0;
}

static int
map_program(struct job *j)
{
	char a[SHOWN_MAX];
	struct strv *argv = &j->j_vd->vd_argv;
	plist_array_iter it = NULL;
	plist_t prog, args, item;
	const char *program = NULL;
	uint32_t i;
	int rc = 0;

	prog = get(j, "Program");
	args = get(j, "ProgramArguments");
	if (prog != NULL) {
		if ((program = str(j, prog, "Program")) == NULL)
			return -1;
		if (program[0] == '\0')
			return fail(j, "Program is empty");
		if (strv_push(argv, program) == -1)
			return oom(j);
	}
	if (args != NULL) {
		if (plist_get_node_type(args) != PLIST_ARRAY)
			return fail(j, "ProgramArguments: must be an array of "
			    "strings, not %s", kind(args));
		/* An iterator: libplist 2.2 finds item i by walking to it. */
		plist_array_new_iter(args, &it);
		if (it == NULL)
			return oom(j);
	}
	for (i = 0; it != NULL && rc == 0; i++) {
		item = NULL;
		plist_array_next_item(args, it, &item);
		if (item == NULL)
			break;
		rc = map_argument(j, item, i, program);
	}
	free(it);
	if (rc == -1)
		return -1;
	if (argv->sv_n == 0)
		return fail(j, "no program: neither Program nor "
		    "ProgramArguments names one");
	if (strchr(argv->sv_v[0], '/') == NULL)
		warning(j, "program '%s' is not a full path: give one, so "
		    "the VM does not depend on the daemon's PATH",
		    shown(argv->sv_v[0], a, sizeof(a)));
	return 0;
}

/* Raise the restart launchd's KeepAlive asks for. */
static void
keep(struct job *j, enum keep k)
{
	if (k > j->j_keep)
		j->j_keep = k;
}

static int
map_pathstate(struct job *j, plist_t dict)
{
	char a[SHOWN_MAX], what[SHOWN_MAX + 32];
	plist_dict_iter it = NULL;
	plist_t val;
	char *path;
	int b = 0, rc = 0, paths = 0;

	if (plist_get_node_type(dict) != PLIST_DICT)
		return fail(j, "KeepAlive PathState: must be a dictionary of "
		    "paths, not %s", kind(dict));
	plist_dict_new_iter(dict, &it);
	if (it == NULL)
		return oom(j);
	for (;;) {
		path = NULL;
		val = NULL;
		plist_dict_next_item(dict, it, &path, &val);
		if (val == NULL) {
			free(path);
			break;
		}
		shown(path ? path : "", a, sizeof(a));
		snprintf(what, sizeof(what), "KeepAlive PathState '%s'", a);
		if (boolean(j, val, what, &b) == -1) {
			rc = -1;
		} else if (!b) {
			warning(j, "%s false (keep it alive while the path is "
			    "missing): not imported; vmsched has no such "
			    "condition", what);
		} else if (path == NULL || path[0] != '/') {
			warning(j, "%s: not a full path; not imported", what);
		} else if (vm_def_add_gate(j->j_vd, GATE_PATH, path) == -1) {
			rc = oom(j);
		} else {
			paths++;
			keep(j, KEEP_ALWAYS);
			j->j_atload = 1;
		}
		free(path);
		if (rc == -1)
			break;
	}
	free(it);
	if (rc == 0 && paths > 1)
		warning(j, "KeepAlive PathState: launchd starts it when any of "
		    "the %d paths exists; vmsched waits until all of them do",
		    paths);
	return rc;
}

/* KeepAlive as a dictionary of conditions: the job runs while any holds. */
static int
map_keepalive_dict(struct job *j, plist_t dict)
{
	char a[SHOWN_MAX];
	plist_dict_iter it = NULL;
	plist_t val;
	char *key;
	int b = 0, rc = 0;

	plist_dict_new_iter(dict, &it);
	if (it == NULL)
		return oom(j);
	for (;;) {
		key = NULL;
		val = NULL;
		plist_dict_next_item(dict, it, &key, &val);
		if (val == NULL) {
			free(key);
			break;
		}
		if (key == NULL) {
			rc = oom(j);
		} else if (strcmp(key, "SuccessfulExit") == 0) {
			/* launchd runs it at load to learn how it exits. */
			if ((rc = boolean(j, val, "KeepAlive SuccessfulExit",
			    &b)) == 0) {
				j->j_atload = 1;
				keep(j, b ? KEEP_ALWAYS : KEEP_ON_FAILURE);
				if (b)
					warning(j, "KeepAlive SuccessfulExit "
					    "true (restart only after a clean "
					    "exit) has no exact counterpart; "
					    "imported as --restart always");
			}
		} else if (strcmp(key, "Crashed") == 0) {
			if ((rc = boolean(j, val, "KeepAlive Crashed",
			    &b)) == 0) {
				keep(j, b ? KEEP_ON_FAILURE : KEEP_ALWAYS);
				warning(j, "KeepAlive Crashed %s (restart only "
				    "after %s) imported as --restart %s; "
				    "--success-codes lists the exit codes "
				    "that are not failures", b ? "true" :
				    "false", b ? "a crash" : "an exit that is "
				    "not a crash", b ? "on-failure" :
				    "always");
			}
		} else if (strcmp(key, "PathState") == 0) {
			rc = map_pathstate(j, val);
		} else if (strcmp(key, "OtherJobEnabled") == 0) {
			warning(j, "KeepAlive OtherJobEnabled: not imported; "
			    "--after NAME starts it once that VM is up");
		} else if (strcmp(key, "NetworkState") == 0) {
			warning(j, "KeepAlive NetworkState: not imported "
			    "(launchd ignores it too); --wait-tcp HOST:PORT "
			    "waits for the network");
		} else if (strcmp(key, "AfterInitialDemand") == 0) {
			warning(j, "KeepAlive AfterInitialDemand: not "
			    "imported; vmsched starts enabled VMs at boot");
		} else {
			warning(j, "KeepAlive %s: unknown condition, not "
			    "imported", shown(key, a, sizeof(a)));
		}
		free(key);
		if (rc == -1)
			break;
	}
	free(it);
	return rc;
}

static int
map_lifecycle(struct job *j)
{
	char a[SHOWN_MAX];
	struct vm_def *vd = j->j_vd;
	plist_t node;
	int b = 0, once = 0, atload = 0, disabled = 0;

	if ((node = get(j, "KeepAlive")) != NULL) {
		if (plist_get_node_type(node) == PLIST_DICT) {
			if (map_keepalive_dict(j, node) == -1)
				return -1;
		} else if (boolean(j, node, "KeepAlive", &b) == -1) {
			return fail(j, "KeepAlive: must be a boolean or a "
			    "dictionary, not %s", kind(node));
		} else if (b) {
			keep(j, KEEP_ALWAYS);
			j->j_atload = 1;
		}
	} else if ((node = get(j, "OnDemand")) != NULL) {
		/* The key KeepAlive replaced: OnDemand false keeps it alive. */
		if (boolean(j, node, "OnDemand", &b) == -1)
			return -1;
		warning(j, "OnDemand is obsolete; read as KeepAlive %s",
		    b ? "false" : "true");
		if (!b) {
			keep(j, KEEP_ALWAYS);
			j->j_atload = 1;
		}
	}
	if ((node = get(j, "RunAtLoad")) != NULL &&
	    boolean(j, node, "RunAtLoad", &atload) == -1)
		return -1;
	if ((node = get(j, "LaunchOnlyOnce")) != NULL &&
	    boolean(j, node, "LaunchOnlyOnce", &once) == -1)
		return -1;
	if ((node = get(j, "Disabled")) != NULL &&
	    boolean(j, node, "Disabled", &disabled) == -1)
		return -1;

	if (once) {
		vd->vd_restart = RESTART_NEVER;
		if (j->j_keep != KEEP_NONE)
			warning(j, "LaunchOnlyOnce true and KeepAlive: launchd "
			    "runs it once per boot, and so will vmsched "
			    "(--restart never)");
	} else if (j->j_keep == KEEP_ALWAYS)
		vd->vd_restart = RESTART_ALWAYS;
	else if (j->j_keep == KEEP_ON_FAILURE)
		vd->vd_restart = RESTART_ON_FAILURE;
	else {
		vd->vd_restart = RESTART_NEVER;
		warning(j, "no KeepAlive: launchd does not restart it when it "
		    "exits, so it is imported with --restart never; `vmsched "
		    "set %s --restart on-failure` restarts it after a failure",
		    shown(vd->vd_name, a, sizeof(a)));
	}
	if (disabled)
		vd->vd_enabled = 0;
	else if (!atload && !j->j_atload) {
		vd->vd_enabled = 0;
		warning(j, "launchd would not start it at load (neither "
		    "RunAtLoad nor KeepAlive true): imported disabled; "
		    "`vmsched enable %s` starts it at boot",
		    shown(vd->vd_name, a, sizeof(a)));
	}
	return 0;
}

static int
map_user(struct job *j)
{
	char a[SHOWN_MAX], b2[SHOWN_MAX];
	plist_t node;
	const char *user = NULL, *group;
	int b = 1;

	if ((node = get(j, "UserName")) != NULL) {
		if ((user = str(j, node, "UserName")) == NULL)
			return -1;
		if (user[0] == '\0')
			return fail(j, "UserName is empty");
		if ((j->j_vd->vd_user = strdup(user)) == NULL)
			return oom(j);
	}
	if ((node = get(j, "GroupName")) != NULL) {
		if ((group = str(j, node, "GroupName")) == NULL)
			return -1;
		if (user != NULL)
			warning(j, "GroupName %s: not imported; vmsched keeps "
			    "only the user and runs the VM with %s's groups",
			    shown(group, a, sizeof(a)),
			    shown(user, b2, sizeof(b2)));
		else
			warning(j, "GroupName %s without UserName: not "
			    "imported; --user USER runs the VM as USER with "
			    "USER's groups", shown(group, a, sizeof(a)));
	}
	if ((node = get(j, "InitGroups")) != NULL) {
		if (boolean(j, node, "InitGroups", &b) == -1)
			return -1;
		if (!b)
			warning(j, "InitGroups false: not imported; vmsched "
			    "always gives the VM its user's groups");
	}
	return 0;
}

/* A full path under key into *dst, or a warning and nothing. */
static int
map_path(struct job *j, const char *key, char **dst)
{
	char a[SHOWN_MAX];
	plist_t node;
	const char *s;

	if ((node = get(j, key)) == NULL)
		return 0;
	if ((s = str(j, node, key)) == NULL)
		return -1;
	if (s[0] != '/') {
		warning(j, "%s '%s': not a full path; not imported", key,
		    shown(s, a, sizeof(a)));
		return 0;
	}
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		return oom(j);
	return 0;
}

static int
map_env(struct job *j)
{
	char a[SHOWN_MAX], what[SHOWN_MAX + 32], *key, *kv;
	plist_dict_iter it = NULL;
	plist_t dict, val;
	const char *s;
	size_t len;
	int rc = 0;

	if ((dict = get(j, "EnvironmentVariables")) == NULL)
		return 0;
	if (plist_get_node_type(dict) != PLIST_DICT)
		return fail(j, "EnvironmentVariables: must be a dictionary of "
		    "strings, not %s", kind(dict));
	plist_dict_new_iter(dict, &it);
	if (it == NULL)
		return oom(j);
	for (;;) {
		key = NULL;
		val = NULL;
		plist_dict_next_item(dict, it, &key, &val);
		if (val == NULL) {
			free(key);
			break;
		}
		if (key == NULL) {
			rc = oom(j);
			break;
		}
		shown(key, a, sizeof(a));
		snprintf(what, sizeof(what), "EnvironmentVariables %s", a);
		if ((s = str(j, val, what)) == NULL)
			rc = -1;
		else if (key[0] == '\0' || strchr(key, '=') != NULL)
			warning(j, "EnvironmentVariables '%s': not a variable "
			    "name; not imported", a);
		else {
			len = strlen(key) + strlen(s) + 2;
			if ((kv = malloc(len)) == NULL)
				rc = oom(j);
			else {
				snprintf(kv, len, "%s=%s", key, s);
				/* libplist keeps keys unique. */
				if (strv_push(&j->j_vd->vd_env, kv) == -1)
					rc = oom(j);
				free(kv);
			}
		}
		free(key);
		if (rc == -1)
			break;
	}
	free(it);
	return rc;
}

static int
map_times(struct job *j)
{
	char a[32], b[32];
	struct vm_def *vd = j->j_vd;
	plist_t node;

	/* ExitTimeOut 0 is launchd's "never SIGKILL", as is ours. */
	if ((node = get(j, "ExitTimeOut")) != NULL &&
	    seconds(j, node, "ExitTimeOut", &vd->vd_stop_timeout_ms) == -1)
		return -1;
	if ((node = get(j, "ThrottleInterval")) != NULL) {
		if (seconds(j, node, "ThrottleInterval",
		    &vd->vd_backoff_initial_ms) == -1)
			return -1;
		if (vd->vd_backoff_initial_ms > vd->vd_backoff_max_ms) {
			warning(j, "ThrottleInterval %s is more than the "
			    "default --backoff-max %s; --backoff-max raised to "
			    "match",
			    value_fmt_duration(vd->vd_backoff_initial_ms, a,
			    sizeof(a)), value_fmt_duration(
			    vd->vd_backoff_max_ms, b, sizeof(b)));
			vd->vd_backoff_max_ms = vd->vd_backoff_initial_ms;
		}
	}
	return 0;
}

static int
map_logs(struct job *j)
{
	char *out = NULL, *err = NULL;
	int rc = -1;

	if (map_path(j, "StandardOutPath", &out) == -1 ||
	    map_path(j, "StandardErrorPath", &err) == -1)
		goto done;
	if (out != NULL && err != NULL && strcmp(out, err) != 0)
		warning(j, "StandardOutPath and StandardErrorPath differ; "
		    "vmsched keeps one log file per VM and uses "
		    "StandardErrorPath for both");
	free(j->j_vd->vd_log_path);
	j->j_vd->vd_log_path = err != NULL ? err : out;
	if (err != NULL)
		free(out);
	out = err = NULL;
	rc = 0;
done:
	free(out);
	free(err);
	return rc;
}

/* Report every key that is not mapped, in the file's order. */
static int
report_unmapped(struct job *j)
{
	char a[SHOWN_MAX];
	plist_dict_iter it = NULL;
	plist_t val;
	char *key;
	size_t i;

	plist_dict_new_iter(j->j_root, &it);
	if (it == NULL)
		return oom(j);
	for (;;) {
		key = NULL;
		val = NULL;
		plist_dict_next_item(j->j_root, it, &key, &val);
		if (val == NULL || key == NULL) {
			free(key);
			break;
		}
		for (i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++)
			if (strcmp(key, mapped[i]) == 0)
				break;
		if (i < sizeof(mapped) / sizeof(mapped[0])) {
			free(key);
			continue;
		}
		for (i = 0; i < sizeof(unmapped) / sizeof(unmapped[0]); i++)
			if (strcmp(key, unmapped[i].u_key) == 0)
				break;
		if (i < sizeof(unmapped) / sizeof(unmapped[0]))
			warning(j, "%s: not imported; %s", unmapped[i].u_key,
			    unmapped[i].u_advice);
		else
			warning(j, "%s: unknown key, not imported",
			    shown(key, a, sizeof(a)));
		free(key);
	}
	free(it);
	return 0;
}

int
launchd_to_def(const void *buf, size_t len, struct vm_def *vd,
    struct strv *warnings, char *err, size_t errlen)
{
	struct job j;
	struct walk w;
	plist_t root = NULL;
	int rc = -1;

	memset(&j, 0, sizeof(j));
	j.j_vd = vd;
	j.j_warn = warnings;
	j.j_err = err;
	j.j_errlen = errlen;
	/* Bounds first: libplist may not survive what they keep out. */
	if (launchd_bounds(buf, len, err, errlen) == -1) {
		errno = EINVAL;
		return -1;
	}
	plist_from_memory(buf, (uint32_t)len, &root);
	if (root == NULL)
		return fail(&j, "not a property list (XML or binary), or a "
		    "damaged one");
	if (plist_get_node_type(root) != PLIST_DICT) {
		fail(&j, "not a launchd job: the property list holds %s, not "
		    "a dictionary", kind(root));
		goto done;
	}
	memset(&w, 0, sizeof(w));
	w.w_err = err;
	w.w_errlen = errlen;
	if (check_tree(&w, root, 0) == -1) {
		if (errno == ENOMEM)
			oom(&j);
		goto done;
	}
	j.j_root = root;
	if (map_label(&j) == -1 || map_program(&j) == -1 ||
	    map_lifecycle(&j) == -1 || map_user(&j) == -1 ||
	    map_path(&j, "WorkingDirectory", &vd->vd_cwd) == -1 ||
	    map_env(&j) == -1 || map_times(&j) == -1 || map_logs(&j) == -1 ||
	    report_unmapped(&j) == -1)
		goto done;
	if (j.j_oom) {
		oom(&j);
		goto done;
	}
	rc = 0;
done:
	plist_free(root);
	return rc;
}

/*
 * Whether s may be the text of an XML element: UTF-8 without the control
 * characters and the two non-characters XML 1.0 forbids (libplist's writer
 * escapes only & < >).
 */
static int
xml_text(const char *s)
{
	const unsigned char *p;

	if (!text_utf8(s, strlen(s)))
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xef && p[1] == 0xbf &&
		    (p[2] == 0xbe || p[2] == 0xbf)))
			return 0;
	return 1;
}

int
launchd_export(const struct launchd_daemon *ld, char **xml)
{
	plist_t dict, args;
	char *out = NULL;
	uint32_t len = 0;
	size_t i;
	int rc = -1;

	*xml = NULL;
	for (i = 0; ld->ld_argv[i] != NULL; i++)
		if (!xml_text(ld->ld_argv[i]))
			break;
	if (ld->ld_argv[i] != NULL || !xml_text(ld->ld_label) ||
	    !xml_text(ld->ld_log) ||
	    (ld->ld_user != NULL && !xml_text(ld->ld_user))) {
		errno = EINVAL;
		return -1;
	}
	if ((dict = plist_new_dict()) == NULL ||
	    (args = plist_new_array()) == NULL) {
		plist_free(dict);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; ld->ld_argv[i] != NULL; i++)
		plist_array_append_item(args, plist_new_string(ld->ld_argv[i]));
	plist_dict_set_item(dict, "Label", plist_new_string(ld->ld_label));
	plist_dict_set_item(dict, "ProgramArguments", args);
	plist_dict_set_item(dict, "RunAtLoad", plist_new_bool(1));
	plist_dict_set_item(dict, "KeepAlive", plist_new_bool(1));
	if (ld->ld_user != NULL)
		plist_dict_set_item(dict, "UserName",
		    plist_new_string(ld->ld_user));
	plist_dict_set_item(dict, "StandardErrorPath",
	    plist_new_string(ld->ld_log));
	plist_dict_set_item(dict, "StandardOutPath",
	    plist_new_string(ld->ld_log));
	/* launchd's default (20s) would kill us before the VMs are down. */
	plist_dict_set_item(dict, "ExitTimeOut",
	    plist_new_uint((uint64_t)ld->ld_exit_timeout));
	/* If the daemon dies its VMs live on, to be adopted. */
	plist_dict_set_item(dict, "AbandonProcessGroup", plist_new_bool(1));
	plist_to_xml(dict, &out, &len);
	if (out == NULL) {
		errno = ENOMEM;
		goto done;
	}
	/* Our own copy, so the caller frees with free(). */
	if ((*xml = malloc((size_t)len + 1)) == NULL)
		goto done;
	memcpy(*xml, out, len);
	(*xml)[len] = '\0';
	rc = 0;
done:
	if (out != NULL)
		plist_to_xml_free(out);
	plist_free(dict);
	return rc;
}

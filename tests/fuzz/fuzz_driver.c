/*
 * fuzz_driver.c: libFuzzer target for what the detached driver reads
 * from outside (issue 12). The first byte picks the parser:
 *
 *   0  a status command's exit code and output (virsh domstate
 *      --reason, vmrun list, VBoxManage showvminfo, `vmsched qmp`'s
 *      words; the VM's user or the hypervisor writes them) under a status
 *      map, the input's own or a shortcut's (sched/status.c)
 *   1  an operator's --status-map rule, status and driver names
 *   2  a command as a JSON array of strings, --stop-cmd's (db/json.c)
 *   3  a line of QEMU's monitor, read for "$.return.status" and the rest
 *   4  a launchd job's ProgramArguments (NUL-separated words) recognized
 *      as a hypervisor's own start and expanded (sched/shortcut.c)
 *   5  a --qemu command line (NUL-separated words) expanded
 *
 * Contracts checked: a decision is one of the states, its words stay
 * within what it was given, NUL-terminated, and are a line of the output
 * or "exit N"; the output is not read when the exit code is not 0; the
 * first matching rule wins; CRLF and a final newline change nothing. A
 * refused rule, command or reply has a why and leaves the output alone;
 * an accepted rule does what it says; an accepted command has one or
 * more strings, a program name, no NUL, and reads back the same. What a
 * recognized job expands to passes the checks a definition must pass,
 * and watches the VM it names: `vmrun list` naming the .vmx says
 * running, its libvirt pid file is in libvirt's directory. Any breach
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "db.h"

#define WHAT_MAX	(STATUS_LINE_MAX + 16)	/* more than any line read */
#define RULES_MAX	16
#define WORDS_MAX	16
#define VMX		"/vm/x.vmx"
#define PID_DIR		"/run/libvirt/qemu"
#define RUN_DIR		"/run/vmsched"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
refused(int rc, const char *why)
{
	if (rc != -1 || why == NULL || why[0] == '\0')
		abort();
}

/* The words of data[0..size), NUL-separated, into sv (at most max). */
static void
words(const uint8_t *data, size_t size, struct strv *sv, size_t max)
{
	const char *p = (const char *)data, *end = p + size;
	char *w;
	size_t n;

	memset(sv, 0, sizeof(*sv));
	while (p < end && sv->sv_n < max) {
		n = strnlen(p, (size_t)(end - p));
		if ((w = strndup(p, n)) == NULL || strv_push(sv, w) == -1)
			abort();
		free(w);
		p += n + 1;
	}
}

/* Whether s is a line of out[0..len), as status_decide splits it. */
static int
is_line(const char *out, size_t len, const char *s)
{
	const char *p = out, *end = out + len, *nl;
	size_t n;

	do {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == strlen(s) && memcmp(p, s, n) == 0)
			return 1;
		p = nl ? nl + 1 : end;
	} while (p < end);
	return 0;
}

/* status_decide with room for any line; the state is one of the enum's. */
static enum vstatus
decide(const struct strv *map, int code, const char *out, size_t len,
    char *what)
{
	enum vstatus st;

	memset(what, 'x', WHAT_MAX);
	st = status_decide(map, code, out, len, what, WHAT_MAX);
	if (st < VS_UNKNOWN || st > VS_CRASHED ||
	    memchr(what, '\0', WHAT_MAX) == NULL || strchr(what, '\n') != NULL)
		abort();
	return st;
}

/* Whether decide gives st and words w. */
static void
decides(const struct strv *map, int code, const char *out, size_t len,
    enum vstatus st, const char *w)
{
	char what[WHAT_MAX];

	if (decide(map, code, out, len, what) != st ||
	    (w != NULL && strcmp(what, w) != 0))
		abort();
}

/* The same for the text out. */
static void
says(const struct strv *map, int code, const char *out, enum vstatus st,
    const char *w)
{
	decides(map, code, out, strlen(out), st, w);
}

/* map with rule put first (or last). */
static void
with_rule(struct strv *dst, const struct strv *map, const char *rule,
    int first)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	if (first && strv_push(dst, rule) == -1)
		abort();
	for (i = 0; i < map->sv_n; i++)
		if (strv_push(dst, map->sv_v[i]) == -1)
			abort();
	if (!first && strv_push(dst, rule) == -1)
		abort();
}

static void
status(const struct strv *map, int code, const char *out, size_t len,
    size_t whatlen)
{
	struct strv other;
	enum vstatus st;
	char what[WHAT_MAX], small[96], exitw[16], rule[32], *crlf;
	size_t i, n;

	st = decide(map, code, out, len, what);
	snprintf(exitw, sizeof(exitw), "exit %d", code);

	/* Cut to whatlen, and not a byte past it. */
	memset(small, 0x5a, sizeof(small));
	if (status_decide(map, code, out, len, small, whatlen) != st)
		abort();
	for (i = whatlen; i < sizeof(small); i++)
		if (small[i] != 0x5a)
			abort();
	if (whatlen > 0) {
		n = strlen(what) < whatlen - 1 ? strlen(what) : whatlen - 1;
		if (strnlen(small, whatlen) != n || memcmp(small, what, n) != 0)
			abort();
	}

	if (map->sv_n == 0) {
		if (st != (code == 0 ? VS_RUNNING : code > 0 ? VS_STOPPED :
		    VS_UNKNOWN) || strcmp(what, exitw) != 0)
			abort();
		return;
	}
	if (st == VS_UNKNOWN && what[0] != '\0')
		abort();
	/* The output is read only when the command exited 0. */
	if (code != 0) {
		decides(map, code, "", 0, st, what);
		if (st != VS_UNKNOWN && strcmp(what, exitw) != 0)
			abort();
	} else if (st != VS_UNKNOWN && strcmp(what, exitw) != 0 &&
	    !is_line(out, len, what))
		abort();

	/* First match wins. */
	if (code >= 0 && code <= 255) {
		snprintf(rule, sizeof(rule), "suspended=exit:%d", code);
		with_rule(&other, map, rule, 1);
		decides(&other, code, out, len, VS_SUSPENDED, exitw);
		strv_clear(&other);
		snprintf(rule, sizeof(rule), "crashed=exit:%d", code);
		with_rule(&other, map, rule, 0);
		decides(&other, code, out, len, st == VS_UNKNOWN ? VS_CRASHED :
		    st, st == VS_UNKNOWN ? exitw : what);
		strv_clear(&other);
	}

	/* A final newline, or CRLF for LF, says the same. */
	if (len > 0 && out[len - 1] != '\n') {
		if ((crlf = malloc(len + 1)) == NULL)
			abort();
		memcpy(crlf, out, len);
		crlf[len] = '\n';
		decides(map, code, crlf, len + 1, st, what);
		free(crlf);
	}
	if (memchr(out, '\r', len) == NULL) {
		if ((crlf = malloc(len * 2 + 1)) == NULL)
			abort();
		for (i = 0, n = 0; i < len; i++) {
			if (out[i] == '\n')
				crlf[n++] = '\r';
			crlf[n++] = out[i];
		}
		decides(map, code, crlf, n, st, what);
		free(crlf);
	}
}

/* The status maps the shortcuts write, made once and checked once. */
static const struct strv *
shortcut_map(int i)
{
	static struct vm_def vd[4];
	static int done;
	static const struct shortcut sc[4] = {
		{ SC_LIBVIRT, "web", "/usr/bin/virsh", "qemu:///system", NULL,
		    PID_DIR, NULL },
		{ SC_VIRTUALBOX, "My VM", "/usr/bin/VBoxManage", NULL, NULL,
		    NULL, NULL },
		{ SC_VMRUN, VMX, "/usr/bin/vmrun", NULL, NULL, NULL, NULL },
		{ SC_QEMU, NULL, "/usr/bin/qemu-system-x86_64", NULL, NULL,
		    NULL, RUN_DIR },
	};
	char why[256];
	int k;

	if (!done) {
		for (k = 0; k < 4; k++) {
			vm_def_init(&vd[k]);
			snprintf(vd[k].vd_name, sizeof(vd[k].vd_name), "vm");
			if (strv_push(&vd[k].vd_argv, "qemu-system-x86_64") ==
			    -1 || shortcut_expand(&sc[k], &vd[k], why,
			    sizeof(why)) == -1)
				abort();
		}
		says(&vd[0].vd_status_map, 0, "running (booted)\n", VS_RUNNING,
		    NULL);
		says(&vd[0].vd_status_map, 0, "paused (user)\n", VS_RUNNING,
		    NULL);
		says(&vd[0].vd_status_map, 0, "shut off (crashed)\n",
		    VS_CRASHED, NULL);
		says(&vd[0].vd_status_map, 0, "shut off (saved)\n",
		    VS_SUSPENDED, NULL);
		says(&vd[0].vd_status_map, 0, "shut off (shutdown)\n",
		    VS_STOPPED, NULL);
		says(&vd[1].vd_status_map, 0, "VMState=\"saved\"\n",
		    VS_SUSPENDED, NULL);
		says(&vd[1].vd_status_map, 0, "VMState=\"aborted\"\n",
		    VS_CRASHED, NULL);
		says(&vd[1].vd_status_map, 0, "VMState=\"running\"\n",
		    VS_RUNNING, NULL);
		says(&vd[2].vd_status_map, 0, "Total running VMs: 1\n" VMX
		    "\n", VS_RUNNING, VMX);
		says(&vd[2].vd_status_map, 0, "Total running VMs: 0\n",
		    VS_STOPPED, NULL);
		says(&vd[3].vd_status_map, 0, "paused\n", VS_SUSPENDED, NULL);
		done = 1;
	}
	return &vd[i].vd_status_map;
}

/* 0: code (0xff is -1, killed), map (0: the input's rules up to a NUL,
 * one a line; 1-4 a shortcut's; 5 none), whatlen, then the output. */
static void
status_input(const uint8_t *data, size_t size)
{
	struct strv map = { NULL, 0 };
	const uint8_t *nul;
	const char *out;
	char *rules, *line, *next;
	size_t len, whatlen;
	int code, which;

	if (size < 3)
		return;
	code = data[0] == 0xff ? -1 : data[0];
	which = data[1] % 6;
	whatlen = data[2] % 80;
	out = (const char *)data + 3;
	len = size - 3;
	if (which == 0) {
		if ((nul = memchr(out, '\0', len)) == NULL)
			nul = (const uint8_t *)out + len;
		if ((rules = strndup(out, (size_t)(nul - (const uint8_t *)
		    out))) == NULL)
			abort();
		for (line = rules; line != NULL && map.sv_n < RULES_MAX;
		    line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if (strv_push(&map, line) == -1)
				abort();
		}
		free(rules);
		len -= (size_t)(nul - (const uint8_t *)out);
		out = (const char *)nul;
		if (len > 0) {
			out++;
			len--;
		}
		status(&map, code, out, len, whatlen);
		strv_clear(&map);
	} else if (which == 5)
		status(&map, code, out, len, whatlen);
	else
		status(shortcut_map(which - 1), code, out, len, whatlen);
}

/* "exit:N" with N 0-255 written out in digits: N; else -1. */
static int
exit_code(const char *pat)
{
	const char *p;
	int n = 0;

	if (strncmp(pat, "exit:", 5) != 0 || pat[5] == '\0')
		return -1;
	for (p = pat + 5; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if ((n = n * 10 + (*p - '0')) > 255)
			return -1;
	}
	return n;
}

static void
rule_input(const char *s)
{
	struct strv map = { NULL, 0 };
	enum vstatus st = VS_UNKNOWN;
	enum vm_driver d = DRV_EXEC;
	const char *why = NULL, *eq, *pat;
	char name[16], w[16], *out;
	size_t n;
	int code;

	if (vstatus_parse(s, &st) == 0) {
		if (st < VS_RUNNING || st > VS_CRASHED ||
		    strcmp(vstatus_name(st), s) != 0)
			abort();
	} else
		for (st = VS_UNKNOWN; st <= VS_CRASHED; st++)
			if (st != VS_UNKNOWN && strcmp(vstatus_name(st), s) ==
			    0)
				abort();
	if (vm_driver_parse(s, &d) == 0) {
		if ((d != DRV_EXEC && d != DRV_DETACHED) ||
		    strcmp(vm_driver_name(d), s) != 0)
			abort();
	} else if (strcmp(s, "exec") == 0 || strcmp(s, "detached") == 0)
		abort();

	if (status_rule_check(s, &why) == -1) {
		refused(-1, why);
		return;
	}
	/* STATE=PATTERN: a state a rule may say, a pattern. */
	if ((eq = strchr(s, '=')) == NULL || (n = (size_t)(eq - s)) >=
	    sizeof(name))
		abort();
	memcpy(name, s, n);
	name[n] = '\0';
	if (vstatus_parse(name, &st) == -1 || *(pat = eq + 1) == '\0')
		abort();
	if (strv_push(&map, s) == -1)
		abort();
	if (strncmp(pat, "exit:", 5) == 0) {
		/* The exit code, and only it, decides. */
		if ((code = exit_code(pat)) == -1)
			abort();
		snprintf(w, sizeof(w), "exit %d", code);
		decides(&map, code, "", 0, st, w);
		decides(&map, (code + 1) % 256, "", 0, VS_UNKNOWN, "");
		decides(&map, -1, "", 0, VS_UNKNOWN, "");
		if (code != 0)
			says(&map, 0, pat, VS_UNKNOWN, "");
	} else {
		/* A line, only after exit 0; a literal one matches itself,
		 * wherever it is. */
		says(&map, 1, pat, VS_UNKNOWN, "");
		n = strlen(pat);
		if (strpbrk(pat, "*?[\\\n") == NULL && pat[n - 1] != '\r' &&
		    n < STATUS_LINE_MAX) {
			decides(&map, 0, pat, n, st, pat);
			if ((out = malloc(n + 16)) == NULL)
				abort();
			snprintf(out, n + 16, "junk\r\n%s\r\n", pat);
			says(&map, 0, out, st, pat);
			free(out);
		}
	}
	strv_clear(&map);
}

/* Whether json escapes a NUL: \u0000 after an odd run of backslashes. */
static int
nul_escape(const char *json)
{
	const char *p, *q;

	for (p = json; (p = strstr(p, "u0000")) != NULL; p++) {
		for (q = p; q > json && q[-1] == '\\'; q--)
			;
		if ((p - q) % 2 == 1)
			return 1;
	}
	return 0;
}

static void
argv_input(const char *s)
{
	struct strv sv = { NULL, 0 }, again = { NULL, 0 };
	char why[256] = "", path[32], *q, *json, *v;
	size_t i, len;

	if (strv_push(&sv, "sentinel") == -1)
		abort();
	if (db_json_argv(s, &sv, why, sizeof(why)) == -1) {
		refused(-1, why);
		if (sv.sv_n != 1 || strcmp(sv.sv_v[0], "sentinel") != 0)
			abort();
		strv_clear(&sv);
		return;
	}
	if (sv.sv_n == 0 || sv.sv_v[sv.sv_n] != NULL ||
	    sv.sv_v[0][0] == '\0' || nul_escape(s) || s[strspn(s,
	    " \t\n\v\f\r")] != '[')
		abort();
	/* Element i is what json_extract says is at $[i]. */
	for (i = 0; i < sv.sv_n && i < 4; i++) {
		snprintf(path, sizeof(path), "$[%zu]", i);
		if (db_json_get(s, path, &v, why, sizeof(why)) == -1 ||
		    v == NULL || strcmp(v, sv.sv_v[i]) != 0)
			abort();
		free(v);
	}
	/* Written back as JSON, it reads the same. */
	for (i = 0, len = 3; i < sv.sv_n; i++)
		len += strlen(sv.sv_v[i]) * 6 + 4;
	if ((json = malloc(len)) == NULL)
		abort();
	strcpy(json, "[");
	for (i = 0; i < sv.sv_n; i++) {
		if (db_json_quote(sv.sv_v[i], &q) == -1 || strlen(json) +
		    strlen(q) + 2 > len)
			abort();
		if (i > 0)
			strcat(json, ",");
		strcat(json, q);
		free(q);
	}
	strcat(json, "]");
	if (db_json_argv(json, &again, why, sizeof(why)) == -1 ||
	    again.sv_n != sv.sv_n)
		abort();
	for (i = 0; i < sv.sv_n; i++)
		if (strcmp(again.sv_v[i], sv.sv_v[i]) != 0)
			abort();
	free(json);
	strv_clear(&again);
	strv_clear(&sv);
}

static void
qmp_input(const char *s)
{
	static const char *const paths[] = { "$", "$.QMP", "$.return",
	    "$.return.status", "$.error", "$.error.desc" };
	struct strv sv = { NULL, 0 };
	char why[256], *v[6], *q, *json;
	size_t i;
	int rc[6];

	for (i = 0; i < 6; i++) {
		why[0] = '\0';
		rc[i] = db_json_get(s, paths[i], &v[i], why, sizeof(why));
		if (rc[i] != rc[0])
			abort();	/* JSON or not, whatever is asked */
		if (rc[i] == -1 && (v[i] != NULL || why[0] == '\0'))
			abort();
	}
	if (rc[0] == -1) {
		if (db_json_argv(s, &sv, why, sizeof(why)) != -1)
			abort();
		return;
	}
	/* Nothing at a path, nothing below it. */
	if ((v[0] == NULL && (v[1] || v[2] || v[4])) || (v[2] == NULL &&
	    v[3] != NULL) || (v[4] == NULL && v[5] != NULL))
		abort();
	/* The status, put in a reply of its own, reads back the same. */
	if (v[3] != NULL) {
		if (db_json_quote(v[3], &q) == -1 ||
		    (json = malloc(strlen(q) + 32)) == NULL)
			abort();
		sprintf(json, "{\"return\": {\"status\": %s}}", q);
		free(q);
		if (db_json_get(json, "$.return.status", &q, why,
		    sizeof(why)) == -1 || q == NULL || strcmp(q, v[3]) != 0)
			abort();
		free(q);
		free(json);
	}
	for (i = 0; i < 6; i++)
		free(v[i]);
}

/* Whether p points into one of sv's strings. */
static int
within(const struct strv *sv, const char *p)
{
	size_t i;

	for (i = 0; i < sv->sv_n; i++)
		if (p >= sv->sv_v[i] && p <= sv->sv_v[i] + strlen(sv->sv_v[i]))
			return 1;
	return 0;
}

/* What a recognized .vmx expands to watches it through `vmrun list`,
 * which names each VM that runs by its .vmx's absolute path. */
static void
vmrun_watches(const struct vm_def *vd, const char *vmx)
{
	char *out;
	size_t n = strlen(vmx) + 64;

	if (vmx[0] != '/' || (out = malloc(n)) == NULL)
		abort();
	snprintf(out, n, "Total running VMs: 2\n/vm/other.vmx\n%s\n", vmx);
	says(&vd->vd_status_map, 0, out, VS_RUNNING, vmx);
	snprintf(out, n, "Total running VMs: 1\n%s.bak\n", vmx);
	says(&vd->vd_status_map, 0, out, VS_STOPPED, NULL);
	says(&vd->vd_status_map, 0, "Total running VMs: 0\n", VS_STOPPED,
	    NULL);
	says(&vd->vd_status_map, 255, "", VS_UNKNOWN, NULL);
	free(out);
}

static void
recognize_input(const uint8_t *data, size_t size)
{
	struct strv argv;
	struct shortcut sc;
	struct vm_def vd;
	const char *why2, *b;
	char why[512];
	size_t i, n;

	words(data, size, &argv, WORDS_MAX);
	if (shortcut_recognize(&argv, &sc) == 0) {
		strv_clear(&argv);
		return;
	}
	if (sc.sc_kind < SC_VMWARE || sc.sc_kind > SC_VIRTUALBOX ||
	    sc.sc_target == NULL || !within(&argv, sc.sc_target) ||
	    (sc.sc_connect != NULL && !within(&argv, sc.sc_connect)) ||
	    sc.sc_pid_dir != NULL || sc.sc_run_dir != NULL)
		abort();
	b = strrchr(argv.sv_v[0], '/') ? strrchr(argv.sv_v[0], '/') + 1 :
	    argv.sv_v[0];
	if (sc.sc_tool == NULL ? strcmp(b, "VBoxHeadless") != 0 :
	    sc.sc_tool != argv.sv_v[0])
		abort();
	if (sc.sc_vmrun_type != NULL && strcmp(sc.sc_vmrun_type, "fusion") !=
	    0 && strcmp(sc.sc_vmrun_type, "ws") != 0 &&
	    strcmp(sc.sc_vmrun_type, "player") != 0)
		abort();

	/* As import-launchd expands it. */
	if (sc.sc_tool == NULL)
		sc.sc_tool = "/usr/bin/VBoxManage";
	if (sc.sc_kind == SC_LIBVIRT && sc.sc_connect == NULL)
		sc.sc_connect = "qemu:///system";
	if (sc.sc_kind == SC_LIBVIRT && strcmp(sc.sc_connect,
	    "qemu:///system") == 0)
		sc.sc_pid_dir = PID_DIR;
	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "vm");
	if (strv_copy(&vd.vd_argv, &argv) == -1)
		abort();
	why[0] = '\0';
	if (shortcut_expand(&sc, &vd, why, sizeof(why)) == -1) {
		refused(-1, why);
		goto done;
	}
	if (vd.vd_argv.sv_n == 0 || strcmp(vd.vd_argv.sv_v[0],
	    sc.sc_tool) != 0 || vd.vd_driver != (sc.sc_kind == SC_VMWARE ?
	    DRV_EXEC : DRV_DETACHED) || vm_def_check(&vd, &why2) == -1)
		abort();
	/* Its map is one the operator could have written. */
	for (i = 0; i < vd.vd_status_map.sv_n; i++)
		if (status_rule_check(vd.vd_status_map.sv_v[i], &why2) == -1)
			abort();
	if (vd.vd_driver == DRV_DETACHED && (vd.vd_cmd[CMD_STATUS].sv_n == 0 ||
	    vd.vd_cmd[CMD_STOP].sv_n == 0))
		abort();
	if (sc.sc_kind == SC_VMRUN)
		vmrun_watches(&vd, sc.sc_target);
	/* libvirt's pid file is the domain's, in libvirt's directory. */
	if (sc.sc_pid_dir != NULL) {
		n = strlen(PID_DIR);
		if (vd.vd_pid_file == NULL || strncmp(vd.vd_pid_file, PID_DIR
		    "/", n + 1) != 0 || strchr(vd.vd_pid_file + n + 1, '/') !=
		    NULL)
			abort();
	}
done:
	vm_def_free(&vd);
	strv_clear(&argv);
}

static void
qemu_input(const uint8_t *data, size_t size)
{
	static const struct shortcut sc = { SC_QEMU, NULL, NULL, NULL, NULL,
	    NULL, RUN_DIR };
	struct vm_def vd;
	const char *why2, *pid = NULL, *qmp, *w;
	char why[512];
	size_t i, n;
	int daemonize = 0;

	vm_def_init(&vd);
	snprintf(vd.vd_name, sizeof(vd.vd_name), "vm");
	words(data, size, &vd.vd_argv, WORDS_MAX);
	why[0] = '\0';
	if (shortcut_expand(&sc, &vd, why, sizeof(why)) == -1) {
		refused(-1, why);
		vm_def_free(&vd);
		return;
	}
	n = vd.vd_argv.sv_n;
	/* As QEMU reads it: an option with one dash or two, -pidfile
	 * takes the next word and the last one counts; our -qmp last. */
	for (i = 1; i < n; i++) {
		w = vd.vd_argv.sv_v[i];
		if (w[0] == '-' && w[1] == '-')
			w++;
		if (strcmp(w, "-daemonize") == 0)
			daemonize = 1;
		else if (strcmp(w, "-pidfile") == 0)
			pid = ++i < n ? vd.vd_argv.sv_v[i] : NULL;
	}
	qmp = n >= 3 && strcmp(vd.vd_argv.sv_v[n - 2], "-qmp") == 0 ?
	    vd.vd_argv.sv_v[n - 1] : NULL;
	if (!shortcut_qemu_program(vd.vd_argv.sv_v[0]) || !daemonize ||
	    pid == NULL || vd.vd_pid_file == NULL || pid[0] != '/' ||
	    strcmp(pid, vd.vd_pid_file) != 0 || qmp == NULL ||
	    strcmp(qmp, "unix:" RUN_DIR "/vm.qmp,server=on,wait=off") != 0 ||
	    vm_def_check(&vd, &why2) == -1)
		abort();
	for (i = 0; i < vd.vd_status_map.sv_n; i++)
		if (status_rule_check(vd.vd_status_map.sv_v[i], &why2) == -1)
			abort();
	vm_def_free(&vd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size == 0)
		return 0;
	if ((s = strndup((const char *)data + 1, size - 1)) == NULL)
		return 0;
	switch (data[0] % 6) {
	case 0:
		status_input(data + 1, size - 1);
		break;
	case 1:
		rule_input(s);
		break;
	case 2:
		argv_input(s);
		break;
	case 3:
		qmp_input(s);
		break;
	case 4:
		recognize_input(data + 1, size - 1);
		break;
	case 5:
		qemu_input(data + 1, size - 1);
		break;
	}
	free(s);
	return 0;
}

/*
 * check_hook.c: the webhook's decisions and its side of the store. The
 * pure parts (sched/hookpolicy.c: retry verdicts and timing, the --events
 * filter, the Slack summary, URL redaction) are fed made-up statuses and
 * times; the signature is checked against RFC 4231's HMAC-SHA256 vectors;
 * URL checking uses libcurl's parser only (no network). The outbox
 * (db/event.c, db/outbox.c) runs on a real SQLite file in a temporary
 * directory: which events become pending, queue order, attempt records,
 * the body built by SQLite, and webhook unset.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched.h"
#include "db.h"

static const struct hook_policy policy = { 1000, 300000, 86400000 };

/* A failed attempt's verdict at now for an event of time 0. */
static enum hook_verdict
judge(long status, int64_t retry_after, int attempts, int64_t now,
    int64_t *next_at)
{
	return hook_retry(&policy, status, retry_after, attempts, 0, now,
	    next_at);
}

START_TEST(retry_success)
{
	static const long ok[] = { 200, 201, 202, 204, 299 };
	int64_t next = -1;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(judge(ok[i], 0, 1, 10, &next),
		    HOOK_DELIVERED);
		ck_assert_int_eq(next, 0);
	}
	/* Even far past the give-up time, a 2xx is a delivery. */
	ck_assert_int_eq(judge(200, 0, 500, 90000000, &next), HOOK_DELIVERED);
}
END_TEST

START_TEST(retry_transient)
{
	static const long again[] = { 0, 408, 429, 500, 502, 503, 504, 599 };
	int64_t next;
	size_t i;

	for (i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
		next = -1;
		ck_assert_msg(judge(again[i], 0, 1, 5000, &next) == HOOK_RETRY,
		    "status %ld not retried", again[i]);
		ck_assert_int_eq(next, 6000);
	}
}
END_TEST

START_TEST(retry_permanent)
{
	static const long fail[] = { 300, 301, 302, 304, 400, 401, 403, 404,
	    405, 409, 410, 413, 422, 499 };
	int64_t next;
	size_t i;

	for (i = 0; i < sizeof(fail) / sizeof(fail[0]); i++) {
		next = -1;
		ck_assert_msg(judge(fail[i], 0, 1, 5000, &next) == HOOK_FAILED,
		    "status %ld not failed at once", fail[i]);
		ck_assert_int_eq(next, 0);
	}
}
END_TEST

START_TEST(retry_backoff_doubles_to_cap)
{
	static const int64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
	    64000, 128000, 256000, 300000, 300000, 300000 };
	int64_t next;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(judge(503, 0, (int)i + 1, 1000000, &next),
		    HOOK_RETRY);
		ck_assert_msg(next - 1000000 == want[i], "attempt %zu: %lld, "
		    "want %lld", i + 1, (long long)(next - 1000000),
		    (long long)want[i]);
	}
	/* A huge attempt count does not overflow past the cap. */
	ck_assert_int_eq(judge(503, 0, 100000, 1000000, &next), HOOK_RETRY);
	ck_assert_int_eq(next - 1000000, 300000);
}
END_TEST

START_TEST(retry_after_honoured)
{
	int64_t next;

	/* Longer than our own backoff, even past the cap: the receiver's. */
	ck_assert_int_eq(judge(429, 30000, 1, 1000, &next), HOOK_RETRY);
	ck_assert_int_eq(next, 31000);
	ck_assert_int_eq(judge(503, 3600000, 1, 1000, &next), HOOK_RETRY);
	ck_assert_int_eq(next, 3601000);
	/* Shorter than the backoff: also the receiver's. */
	ck_assert_int_eq(judge(429, 2000, 6, 1000, &next), HOOK_RETRY);
	ck_assert_int_eq(next, 3000);
	/* None (0) or nonsense (negative): our backoff. */
	ck_assert_int_eq(judge(429, 0, 3, 1000, &next), HOOK_RETRY);
	ck_assert_int_eq(next, 5000);
	ck_assert_int_eq(judge(429, -5, 3, 1000, &next), HOOK_RETRY);
	ck_assert_int_eq(next, 5000);
}
END_TEST

START_TEST(retry_gives_up)
{
	struct hook_policy hp = { 1000, 300000, 60000 };
	int64_t next;

	/* Before the deadline: retried, but never later than it. */
	ck_assert_int_eq(hook_retry(&hp, 500, 0, 1, 100000, 150000, &next),
	    HOOK_RETRY);
	ck_assert_int_eq(next, 151000);
	ck_assert_int_eq(hook_retry(&hp, 500, 0, 9, 100000, 150000, &next),
	    HOOK_RETRY);
	ck_assert_int_eq(next, 160000);		/* the last try, at the deadline */
	ck_assert_int_eq(hook_retry(&hp, 429, 3600000, 1, 100000, 150000,
	    &next), HOOK_RETRY);
	ck_assert_int_eq(next, 160000);
	/* At or past it: failed, kept. */
	ck_assert_int_eq(hook_retry(&hp, 500, 0, 10, 100000, 160000, &next),
	    HOOK_FAILED);
	ck_assert_int_eq(hook_retry(&hp, 0, 0, 10, 100000, 999999, &next),
	    HOOK_FAILED);
	/* give_up 0: the first failure is the last. */
	hp.hp_give_up_ms = 0;
	ck_assert_int_eq(hook_retry(&hp, 503, 0, 1, 100000, 100000, &next),
	    HOOK_FAILED);
}
END_TEST

/* Parse list, then match event against the result. */
static int
matches(const char *list, const char *event)
{
	char buf[256], why[256];

	ck_assert_msg(hook_filter_parse(list, buf, sizeof(buf), why,
	    sizeof(why)) == 0, "%s refused: %s", list, why);
	return hook_filter_match(buf, event);
}

START_TEST(filter_default)
{
	const char *const *ev;

	for (ev = hook_event_names; *ev != NULL; ev++) {
		int audit = strcmp(*ev, "vm.defined") == 0 ||
		    strcmp(*ev, "vm.changed") == 0 ||
		    strcmp(*ev, "vm.removed") == 0;
		ck_assert_msg(hook_filter_match(NULL, *ev) == !audit,
		    "default filter and %s", *ev);
	}
}
END_TEST

START_TEST(filter_names_and_prefixes)
{
	ck_assert(matches("vm.failed", "vm.failed"));
	ck_assert(!matches("vm.failed", "vm.failed2"));
	ck_assert(!matches("vm.failed", "vm.fail"));
	ck_assert(!matches("vm.failed", "vm.exited"));
	ck_assert(matches("vm.*", "vm.exited"));
	ck_assert(matches("vm.*", "vm.defined"));
	ck_assert(!matches("vm.*", "scheduler.started"));
	ck_assert(!matches("vm.*", "vmx.thing"));
	ck_assert(!matches("vm.*", "vm"));
	ck_assert(matches("scheduler.*", "scheduler.stopping"));
	ck_assert(matches("*", "vm.removed"));
	ck_assert(matches("*", "scheduler.started"));
	ck_assert(matches("vm.failed, scheduler.*", "scheduler.started"));
	ck_assert(matches(" vm.failed ,vm.blocked ", "vm.blocked"));
	ck_assert(matches(" vm.failed ,vm.blocked ", "vm.failed"));
	ck_assert(!matches(" vm.failed ,vm.blocked ", "vm.up"));
}
END_TEST

START_TEST(filter_normalized)
{
	char buf[256], why[256];

	ck_assert_int_eq(hook_filter_parse(" vm.failed ,\tscheduler.* ", buf,
	    sizeof(buf), why, sizeof(why)), 0);
	ck_assert_str_eq(buf, "vm.failed,scheduler.*");
}
END_TEST

START_TEST(filter_refuses)
{
	static const char *const bad[] = { "", " ", "vm.failed,", ",vm.up",
	    "vm.failed,,vm.up", "vm.crashd", "VM.failed", "vm.*x", "vm*",
	    "*.failed", "nothing.*", "vm.f ailed", "vm.failed;rm", "**",
	    "vm.", ".*" };
	char buf[256], why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(hook_filter_parse(bad[i], buf, sizeof(buf), why,
		    sizeof(why)) == -1, "'%s' accepted", bad[i]);
		ck_assert_msg(why[0] != '\0', "'%s': no reason", bad[i]);
	}
	/* Too long for the buffer: refused, not cut. */
	ck_assert_int_eq(hook_filter_parse("vm.failed,vm.blocked", buf, 12,
	    why, sizeof(why)), -1);
}
END_TEST

/* RFC 4231 section 4: HMAC-SHA-256 test cases 1, 2, 6 and 7. */
START_TEST(hmac_rfc4231)
{
	unsigned char key20[20], key131[131];
	char hex[65];

	memset(key20, 0x0b, sizeof(key20));
	ck_assert_int_eq(hook_sign(key20, sizeof(key20), "Hi There", 8, hex),
	    0);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	ck_assert_int_eq(hook_sign("Jefe", 4, "what do ya want for nothing?",
	    28, hex), 0);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	memset(key131, 0xaa, sizeof(key131));
	ck_assert_int_eq(hook_sign(key131, sizeof(key131), "Test Using Larger "
	    "Than Block-Size Key - Hash Key First", 54, hex), 0);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	ck_assert_int_eq(hook_sign(key131, sizeof(key131), "This is a test "
	    "using a larger than block-size key and a larger than block-size "
	    "data. The key needs to be hashed before being used by the HMAC "
	    "algorithm.", 152, hex), 0);
	ck_assert_str_eq(hex, "9b09ffa71b942fcb27635fbcd5b0e944"
	    "bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

/*
 * Standard Webhooks 1.0 (issue 13): the example of the standard's own
 * test suite, a raw secret as its libraries' format "raw" signs it (both
 * also checked by node's standardwebhooks package), and the keys.
 */
START_TEST(std_sign)
{
	char sig[HOOK_STD_SIG_LEN];
	unsigned char key[64];
	size_t keylen;
	const char *body = "{\"test\": 2432232314}";

	ck_assert_int_eq(hook_std_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
	    sig, sizeof(sig)), 0);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	ck_assert_int_eq(hook_std_sign("s3cret", "42", 1700000000, "{}", 2, sig,
	    sizeof(sig)), 0);
	ck_assert_str_eq(sig, "v1,DRIzV/qSfKCRNl9ueEDPf1VFVNRp9J3UtLUyfqhfvcI=");
	ck_assert_int_eq(hook_std_sign("s3cret", "42", 1700000000, "{}", 2, sig,
	    HOOK_STD_SIG_LEN - 1), -1);

	ck_assert_int_eq(hook_std_key("whsec_aGVsbG8=", key, &keylen), 0);
	ck_assert_int_eq(keylen, 5);
	ck_assert_int_eq(memcmp(key, "hello", 5), 0);
	ck_assert_int_eq(hook_std_key("whsec_aGk=", key, &keylen), 0);
	ck_assert_int_eq(keylen, 2);
	ck_assert_int_eq(hook_std_key("whsec_aGVs", key, &keylen), 0);
	ck_assert_int_eq(keylen, 3);
	/* shorter than the prefix: read no further than the secret */
	ck_assert_int_eq(hook_std_key("k", key, &keylen), 0);
	ck_assert_int_eq(keylen, 1);
	ck_assert_int_eq(hook_std_key("older-secret", key, &keylen), 0);
	ck_assert_int_eq(keylen, 12);
	ck_assert_int_eq(memcmp(key, "older-secret", 12), 0);
	ck_assert_int_eq(hook_std_key("whsec_", key, &keylen), -1);
	ck_assert_int_eq(hook_std_key("whsec_abc", key, &keylen), -1);
	ck_assert_int_eq(hook_std_key("whsec_ab=c", key, &keylen), -1);
	ck_assert_int_eq(hook_std_key("whsec_a===", key, &keylen), -1);
	ck_assert_int_eq(hook_std_key("whsec_ab c", key, &keylen), -1);
}
END_TEST

START_TEST(url_check)
{
	static const char *const ok[] = { "http://127.0.0.1:8080/hook",
	    "https://hooks.example.com/services/T0/B0/xyz", "http://a",
	    "HTTPS://Example.COM/", "http://[::1]:9/x",
	    "https://u:p@h.example/p?q=1" };
	static const char *const bad[] = { "", "ftp://h/x", "file:///etc/x",
	    "example.com/hook", "http://", "http:///x", "https://:80/",
	    "http://h/a b", "http://h/\n", "gopher://h", "http//h",
	    "javascript:alert(1)" };
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(hook_url_check(ok[i], &why) == 0, "%s: %s", ok[i],
		    why);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hook_url_check(bad[i], &why) == -1, "%s accepted",
		    bad[i]);
}
END_TEST

START_TEST(url_redact)
{
	char buf[256];

	hook_url_redact("https://u:secret@h.example:8/p?a=b@c", buf,
	    sizeof(buf));
	ck_assert_str_eq(buf, "https://u:***@h.example:8/p?a=b@c");
	hook_url_redact("https://user@h.example/p", buf, sizeof(buf));
	ck_assert_str_eq(buf, "https://user@h.example/p");
	hook_url_redact("http://h.example/p:q@r", buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://h.example/p:q@r");
	hook_url_redact("http://h", buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://h");
}
END_TEST

START_TEST(summary)
{
	struct hook_event ev;
	char buf[512];

	memset(&ev, 0, sizeof(ev));
	hook_event_clear(&ev);
	ev.he_event = strdup("vm.exited");
	ev.he_vm = strdup("web1");
	ev.he_pid = 4242;
	ev.he_reason = strdup("crashed");
	ev.he_signal = strdup("KILL");
	ev.he_delay_ms = 4000;
	ev.he_failures = 2;
	ev.he_restarts = 3;
	hook_summary(&ev, "host1", buf, sizeof(buf));
	ck_assert_str_eq(buf, "host1: vm.exited web1 pid 4242 crashed by "
	    "SIGKILL, restart in 4s, 2 failures in a row, 3 restarts");
	hook_event_clear(&ev);
	ck_assert_ptr_null(ev.he_event);
	ck_assert_int_eq(ev.he_pid, -1);

	ev.he_event = strdup("vm.blocked");
	ev.he_vm = strdup("db");
	ev.he_why = strdup("after web1, which failed");
	ev.he_exit_code = 0;
	ev.he_reason = strdup("exited");
	hook_summary(&ev, "h", buf, sizeof(buf));
	ck_assert_str_eq(buf, "h: vm.blocked db exited with code 0: after "
	    "web1, which failed");
	hook_event_clear(&ev);

	ev.he_event = strdup("scheduler.started");
	hook_summary(&ev, "h", buf, sizeof(buf));
	ck_assert_str_eq(buf, "h: scheduler.started");
	/* Cut to the buffer, still terminated. */
	hook_summary(&ev, "h", buf, 8);
	ck_assert_str_eq(buf, "h: sche");
	hook_event_clear(&ev);
}
END_TEST

/* The outbox on a real database. */
static char tmpdir[64];
static struct db db;

static void
setup(void)
{
	char path[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_hook.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/vmsched.db", tmpdir);
	ck_assert_int_eq(db_open(&db, path, -1), DB_OK);
}

static void
teardown(void)
{
	char path[128];

	db_close(&db);
	snprintf(path, sizeof(path), "%s/vmsched.db", tmpdir);
	unlink(path);
	strncat(path, "-wal", sizeof(path) - strlen(path) - 1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vmsched.db-shm", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

struct ev {
	const char	*e_event;
	const char	*e_vm;
	const char	*e_detail;
};

static int
add_tx(struct db *d, void *arg)
{
	struct ev *e = arg;

	return db_event_add(d, e->e_event, e->e_vm, -1, e->e_detail);
}

/* Add an event; returns its status. */
static const char *
add(const char *event, const char *vm, const char *detail)
{
	static char status[16];
	struct ev e = { event, vm, detail };
	char *s;

	ck_assert_int_eq(db_tx(&db, add_tx, &e), DB_OK);
	ck_assert_int_eq(db_text(&db, &s, "SELECT status FROM event WHERE "
	    "id = last_insert_rowid()", ""), DB_OK);
	snprintf(status, sizeof(status), "%s", s);
	free(s);
	return status;
}

static int64_t
count(const char *sql)
{
	int64_t n;

	ck_assert_int_eq(db_int(&db, &n, sql, ""), DB_OK);
	return n;
}

START_TEST(outbox_pending_by_filter)
{
	/* No webhook: history only. */
	ck_assert_str_eq(add("vm.exited", "a", NULL), "none");
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:9/", NULL,
	    NULL, "json"), DB_OK);
	/* The default: all but the audit events. */
	ck_assert_str_eq(add("vm.exited", "a", NULL), "pending");
	ck_assert_str_eq(add("scheduler.started", NULL, NULL), "pending");
	ck_assert_str_eq(add("vm.defined", "a", NULL), "none");
	ck_assert_str_eq(add("vm.changed", "a", NULL), "none");
	/* A filter. */
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:9/", NULL,
	    "vm.failed,scheduler.*", "json"), DB_OK);
	ck_assert_str_eq(add("vm.exited", "a", NULL), "none");
	ck_assert_str_eq(add("vm.failed", "a", NULL), "pending");
	ck_assert_str_eq(add("scheduler.stopping", NULL, NULL), "pending");
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:9/", NULL,
	    "vm.*", "json"), DB_OK);
	ck_assert_str_eq(add("vm.defined", "a", NULL), "pending");
	ck_assert_str_eq(add("scheduler.stopping", NULL, NULL), "none");
}
END_TEST

START_TEST(outbox_queue_order_and_results)
{
	struct hook_event ev;
	int64_t first, n;
	long cancelled;

	memset(&ev, 0, sizeof(ev));
	hook_event_clear(&ev);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_NOTFOUND);
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:9/", "k", NULL,
	    "json"), DB_OK);
	add("vm.exited", "a", "{\"pid\": 7, \"exit_code\": 3, \"signal\": "
	    "null, \"reason\": \"exited\", \"restarts\": 2, \"failures\": 1, "
	    "\"delay_ms\": 2000, \"rule\": \"on-failure\"}");
	add("vm.started", "b", NULL);
	add("vm.up", "c", NULL);

	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	first = ev.he_id;
	ck_assert_str_eq(ev.he_event, "vm.exited");
	ck_assert_str_eq(ev.he_vm, "a");
	ck_assert_int_eq(ev.he_pid, 7);
	ck_assert_int_eq(ev.he_exit_code, 3);
	ck_assert_ptr_null(ev.he_signal);
	ck_assert_str_eq(ev.he_reason, "exited");
	ck_assert_int_eq(ev.he_restarts, 2);
	ck_assert_int_eq(ev.he_failures, 1);
	ck_assert_int_eq(ev.he_delay_ms, 2000);
	ck_assert_int_eq(ev.he_attempts, 0);
	ck_assert_int_eq(ev.he_next_at, 0);

	/* A retry keeps it at the head, with the attempt counted. */
	ck_assert_int_eq(db_outbox_result(&db, first, "pending", HOOK_RETRY,
	    123456, "HTTP 500"), DB_OK);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_eq(ev.he_id, first);
	ck_assert_int_eq(ev.he_attempts, 1);
	ck_assert_int_eq(ev.he_next_at, 123456);

	/* Delivered: the next one is the head. */
	ck_assert_int_eq(db_outbox_result(&db, first, "pending",
	    HOOK_DELIVERED, 0, NULL), DB_OK);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_eq(ev.he_id, first + 1);
	ck_assert_int_eq(count("SELECT count(*) FROM event WHERE status = "
	    "'delivered' AND attempts = 2 AND delivered_at > 0 AND "
	    "next_attempt_at IS NULL"), 1);

	/* Failed: kept, out of the queue. */
	ck_assert_int_eq(db_outbox_result(&db, first + 1, "pending",
	    HOOK_FAILED, 0, "HTTP 400"), DB_OK);
	/* Not pending any more: another result for it changes nothing. */
	ck_assert_int_eq(db_outbox_result(&db, first + 1, "pending",
	    HOOK_DELIVERED, 0, NULL), DB_OK);
	ck_assert_int_eq(db_outbox_count(&db, "failed", &n), DB_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_eq(ev.he_id, first + 2);
	ck_assert_int_eq(db_outbox_count(&db, "pending", &n), DB_OK);
	ck_assert_int_eq(n, 1);
	hook_event_clear(&ev);

	/* Setting the webhook again makes a waiting retry due at once. */
	ck_assert_int_eq(db_outbox_result(&db, first + 2, "pending",
	    HOOK_RETRY, now_ms() + 600000, "HTTP 503"), DB_OK);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_gt(ev.he_next_at, now_ms());
	hook_event_clear(&ev);
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:10/", NULL,
	    NULL, "json"), DB_OK);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_eq(ev.he_next_at, 0);
	ck_assert_int_eq(ev.he_attempts, 1);
	hook_event_clear(&ev);

	/* Unset takes the rest out of the queue; a late result is ignored. */
	ck_assert_int_eq(db_webhook_unset(&db, &cancelled), DB_OK);
	ck_assert_int_eq(cancelled, 1);
	ck_assert_int_eq(db_outbox_result(&db, first + 2, "pending",
	    HOOK_FAILED, 0, "late"), DB_OK);
	ck_assert_int_eq(count("SELECT count(*) FROM event WHERE status = "
	    "'none' AND last_error = 'HTTP 503' AND next_attempt_at IS NULL"),
	    1);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_NOTFOUND);
	ck_assert_int_eq(db_webhook_unset(&db, &cancelled), DB_NOTFOUND);
	ck_assert_int_eq(count("SELECT count(*) FROM setting WHERE key LIKE "
	    "'webhook.%'"), 0);
}
END_TEST

START_TEST(outbox_body)
{
	struct hook_event ev;
	int64_t ok;
	char *body;

	memset(&ev, 0, sizeof(ev));
	hook_event_clear(&ev);
	ck_assert_int_eq(db_webhook_set(&db, "http://127.0.0.1:9/", NULL,
	    NULL, "json"), DB_OK);
	add("vm.exited", "a\"b", "{\"pid\": 7, \"exit_code\": null, "
	    "\"signal\": 9, \"reason\": \"crashed\", \"restarts\": 2, "
	    "\"failures\": 1, \"delay_ms\": 2000}");
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_str_eq(ev.he_signal, "KILL");
	ck_assert_int_eq(db_outbox_body(&db, ev.he_id, "h\"ost", NULL, &body),
	    DB_OK);
	/* Parse it back with SQLite: keys, types and escaping. */
	ck_assert_int_eq(db_int(&db, &ok, "SELECT json_valid(?1) AND "
	    "json_extract(?1, '$.id') = ?2 AND "
	    "json_extract(?1, '$.event') = 'vm.exited' AND "
	    "json_extract(?1, '$.host') = 'h\"ost' AND "
	    "json_extract(?1, '$.time') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-"
	    "[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' "
	    "AND json_extract(?1, '$.vm.name') = 'a\"b' AND "
	    "json_extract(?1, '$.vm.pid') = 7 AND "
	    "json_type(?1, '$.vm.exit_code') = 'null' AND "
	    "json_extract(?1, '$.vm.signal') = 'KILL' AND "
	    "json_extract(?1, '$.vm.reason') = 'crashed' AND "
	    "json_extract(?1, '$.vm.restarts') = 2 AND "
	    "json_extract(?1, '$.vm.failures') = 1 AND "
	    "json_extract(?1, '$.vm.next_delay_ms') = 2000 AND "
	    "json_extract(?1, '$.detail.signal') = 9", "ti", body, ev.he_id),
	    DB_OK);
	ck_assert_msg(ok == 1, "body: %s", body);
	free(body);
	ck_assert_int_eq(db_outbox_body(&db, ev.he_id, "h", "a \"quoted\" "
	    "line", &body), DB_OK);
	ck_assert_str_eq(body, "{\"text\":\"a \\\"quoted\\\" line\"}");
	free(body);
	hook_event_clear(&ev);

	/* A scheduler event has vm null. */
	add("scheduler.started", NULL, NULL);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_int_eq(db_outbox_result(&db, ev.he_id, "pending",
	    HOOK_DELIVERED, 0, NULL), DB_OK);
	ck_assert_int_eq(db_outbox_head(&db, &ev), DB_OK);
	ck_assert_str_eq(ev.he_event, "scheduler.started");
	ck_assert_int_eq(db_outbox_body(&db, ev.he_id, "h", NULL, &body),
	    DB_OK);
	ck_assert_ptr_nonnull(strstr(body, "\"vm\":null"));
	free(body);
	hook_event_clear(&ev);
	ck_assert_int_eq(db_outbox_body(&db, 999999, "h", NULL, &body),
	    DB_NOTFOUND);
}
END_TEST

START_TEST(outbox_settings)
{
	struct db_webhook wh;
	char *json, *v;

	ck_assert_int_eq(db_webhook_get(&db, &wh), DB_NOTFOUND);
	ck_assert_ptr_null(wh.wh_url);
	ck_assert_str_eq(wh.wh_format, "json");
	ck_assert_int_eq(wh.wh_give_up_ms, HOOK_GIVE_UP_MS);
	db_webhook_free(&wh);
	ck_assert_int_eq(db_webhook_set(&db, "https://h/x", "s3cret", "vm.*",
	    "slack"), DB_OK);
	ck_assert_int_eq(db_setting_set(&db, "webhook.give_up_ms", "1500"),
	    DB_OK);
	ck_assert_int_eq(db_webhook_get(&db, &wh), DB_OK);
	ck_assert_str_eq(wh.wh_url, "https://h/x");
	ck_assert_str_eq(wh.wh_secret, "s3cret");
	ck_assert_str_eq(wh.wh_events, "vm.*");
	ck_assert_str_eq(wh.wh_format, "slack");
	ck_assert_int_eq(wh.wh_give_up_ms, 1500);
	db_webhook_free(&wh);
	ck_assert_int_eq(db_webhook_json(&db, "https://h/x", &json), DB_OK);
	ck_assert_ptr_null(strstr(json, "s3cret"));
	ck_assert_ptr_nonnull(strstr(json, "\"secret_set\":true"));
	free(json);
	/* set replaces everything it owns: no secret, no filter now. */
	ck_assert_int_eq(db_webhook_set(&db, "https://h/y", NULL, NULL,
	    "json"), DB_OK);
	ck_assert_int_eq(db_setting_get(&db, "webhook.secret", &v),
	    DB_NOTFOUND);
	ck_assert_int_eq(db_setting_get(&db, "webhook.events", &v),
	    DB_NOTFOUND);
	ck_assert_int_eq(db_setting_get(&db, "webhook.give_up_ms", &v), DB_OK);
	ck_assert_str_eq(v, "1500");
	free(v);
}
END_TEST

/* This program, to run as a separate process (fork alone would share
 * SQLite's lock bookkeeping with the parent). */
static const char *self_path;

/* In another process, as a CLI would: open, count rows of sql, close.
 * Returns the count (or 100 on error). */
static int
child_count(const char *path, const char *sql)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		execl(self_path, self_path, "--count", path, sql, (char *)NULL);
		_exit(101);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* check_hook --count DB SQL: the other process of child_count. */
static int
count_main(const char *path, const char *sql)
{
	struct db cli;
	int64_t n;

	if (db_open(&cli, path, -1) != DB_OK || db_int(&cli, &n, sql, "") !=
	    DB_OK)
		return 100;
	db_close(&cli);
	return n > 99 ? 99 : (int)n;
}

/*
 * Regression: the daemon's connection and the sender's live in one
 * process. db_open used to open() and close() the file, which drops every
 * POSIX lock the process holds on it; a CLI closing the database then
 * took itself for its last user and deleted the WAL under the sender, whose
 * later commits nobody else could see.
 */
START_TEST(outbox_two_connections_in_one_process)
{
	struct db sender;
	char path[128];

	snprintf(path, sizeof(path), "%s/vmsched.db", tmpdir);
	ck_assert_int_eq(db_open(&sender, path, -1), DB_OK);
	ck_assert_int_eq(db_exec(&db, "INSERT INTO setting VALUES ('a', '1')",
	    ""), DB_OK);
	ck_assert_int_eq(child_count(path, "SELECT count(*) FROM setting"), 1);
	ck_assert_int_eq(db_exec(&sender, "INSERT INTO setting VALUES ('b', "
	    "'2')", ""), DB_OK);
	ck_assert_int_eq(child_count(path, "SELECT count(*) FROM setting "
	    "WHERE key = 'b'"), 1);
	ck_assert_int_eq(db_exec(&db, "INSERT INTO setting VALUES ('c', '3')",
	    ""), DB_OK);
	ck_assert_int_eq(child_count(path, "SELECT count(*) FROM setting"), 3);
	db_close(&sender);
}
END_TEST

static Suite *
hook_suite(void)
{
	Suite *s = suite_create("hook");
	TCase *tc;

	tc = tcase_create("retry");
	tcase_add_test(tc, retry_success);
	tcase_add_test(tc, retry_transient);
	tcase_add_test(tc, retry_permanent);
	tcase_add_test(tc, retry_backoff_doubles_to_cap);
	tcase_add_test(tc, retry_after_honoured);
	tcase_add_test(tc, retry_gives_up);
	suite_add_tcase(s, tc);

	tc = tcase_create("filter");
	tcase_add_test(tc, filter_default);
	tcase_add_test(tc, filter_names_and_prefixes);
	tcase_add_test(tc, filter_normalized);
	tcase_add_test(tc, filter_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign_and_text");
	tcase_add_test(tc, hmac_rfc4231);
	tcase_add_test(tc, std_sign);
	tcase_add_test(tc, url_check);
	tcase_add_test(tc, url_redact);
	tcase_add_test(tc, summary);
	suite_add_tcase(s, tc);

	tc = tcase_create("outbox");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, outbox_pending_by_filter);
	tcase_add_test(tc, outbox_queue_order_and_results);
	tcase_add_test(tc, outbox_body);
	tcase_add_test(tc, outbox_settings);
	tcase_add_test(tc, outbox_two_connections_in_one_process);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char *argv[])
{
	SRunner *sr;
	int failed;

	if (argc == 4 && strcmp(argv[1], "--count") == 0)
		return count_main(argv[2], argv[3]);
	self_path = argv[0];
	sr = srunner_create(hook_suite());

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

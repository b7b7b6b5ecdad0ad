/*
 * hook.c: the webhook sender. It takes the oldest pending event from the
 * outbox (the event table), posts it with libcurl, signs the exact body
 * with HMAC-SHA256 (OpenSSL) when a secret is set, and records the attempt:
 * delivered, retried later as hook_retry (hookpolicy.c) says, or failed.
 * Events go out one at a time in id order, so while the oldest waits for
 * its retry the later ones wait behind it: a receiver sees them in the
 * order they happened. Delivery is at least once: an event is marked
 * delivered only after a 2xx, so a crash in between sends it again later,
 * with the same X-Vmsched-Delivery id.
 *
 * Why a thread of its own, and not curl's multi interface inside the
 * daemon's poll loop: the supervision loop must never wait for the
 * network, and a multi handle does not promise that. Name resolution can
 * block (a resolver built without threads, or a slow NSS module), TLS
 * handshakes cost CPU in the loop, and every attempt also needs SQLite
 * work (load the event, build the body, record the result) that can wait
 * on the database's busy timeout. In a thread with its own database
 * connection, a hung endpoint, slow DNS or a slow disk delays only other
 * deliveries; reaping, restarts and stops carry on. The daemon's side is
 * one cheap call, hook_wake, after it commits events. hook_stop bounds
 * shutdown: curl's progress callback sees the stop flag within about a
 * second, every request has connect and total timeouts, and a thread that
 * still does not finish is left behind rather than waited for.
 *
 * hook_test sends one webhook.test event the same way, synchronously, for
 * vmsched webhook test.
 *
 * Two signatures go with a secret. X-Vmsched-Signature-256 signs the body
 * alone, keyed with the secret's bytes. The Standard Webhooks 1.0 headers
 * (webhook-id: the delivery id, webhook-timestamp: this attempt's Unix
 * seconds, webhook-signature: "v1," and the base64 HMAC-SHA256 of
 * "id.timestamp.body") let a receiver refuse a replayed request by its
 * age, with any of that standard's libraries; their key is what a
 * "whsec_" secret's base64 stands for, or, for secrets that are not of
 * that form (set before vmsched knew the standard), the secret's bytes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sched.h"
#include "db.h"

#define HOOK_CONNECT_TIMEOUT_MS	5000	/* to connect (and resolve) */
#define HOOK_TIMEOUT_MS		10000	/* the whole request, by default */
#define HOOK_IDLE_MS		10000	/* look again even if not woken */
#define HOOK_DBERR_MS		1000	/* pause after a database error */
#define HOOK_STOP_WAIT_MS	5000	/* hook_stop waits this long at most */
#define HOOK_ANSWER_MAX		160	/* bytes of an answer kept for errors */

/* One connection to receivers: an easy handle reused, so keep-alive. */
struct hook_conn {
	CURL		*hc_curl;
	atomic_int	*hc_stop;	/* abandon a request once set; or NULL */
	char		 hc_host[256];	/* this host's name, for the body */
	char		 hc_errbuf[CURL_ERROR_SIZE];
	char		 hc_answer[HOOK_ANSWER_MAX + 1];	/* body start */
	size_t		 hc_answer_len;
};

/*
 * libcurl is loaded with dlopen the first time it is needed (the daemon's
 * sender, `webhook set` checking a URL, `webhook test`), not linked: its
 * thirty-odd shared libraries cost every vmsched command about 20 ms of
 * start-up on a small host (`vmsched help` took 30 ms linked, 10 ms not),
 * and most commands never touch the network. The table is process-wide,
 * like the library it points into; it is filled once and only read after.
 */
static struct {
	CURLcode	 (*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	void		 (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
	CURLU		*(*url)(void);
	CURLUcode	 (*url_set)(CURLU *, CURLUPart, const char *,
			    unsigned int);
	CURLUcode	 (*url_get)(const CURLU *, CURLUPart, char **,
			    unsigned int);
	void		 (*url_cleanup)(CURLU *);
	void		 (*free)(void *);
	const char	*error;		/* why loading failed, or NULL */
} lc;
static pthread_once_t lc_once = PTHREAD_ONCE_INIT;

static void
lc_load(void)
{
#if defined(__APPLE__)
	static const char *const names[] = { "libcurl.4.dylib", NULL };
#else
	static const char *const names[] = { "libcurl.so.4", "libcurl.so",
	    NULL };
#endif
	static const struct {
		const char	*sym;
		void		**slot;
	} syms[] = {
		{ "curl_global_init", (void **)&lc.global_init },
		{ "curl_easy_init", (void **)&lc.easy_init },
		{ "curl_easy_setopt", (void **)&lc.easy_setopt },
		{ "curl_easy_perform", (void **)&lc.easy_perform },
		{ "curl_easy_getinfo", (void **)&lc.easy_getinfo },
		{ "curl_easy_strerror", (void **)&lc.easy_strerror },
		{ "curl_easy_cleanup", (void **)&lc.easy_cleanup },
		{ "curl_slist_append", (void **)&lc.slist_append },
		{ "curl_slist_free_all", (void **)&lc.slist_free_all },
		{ "curl_url", (void **)&lc.url },
		{ "curl_url_set", (void **)&lc.url_set },
		{ "curl_url_get", (void **)&lc.url_get },
		{ "curl_url_cleanup", (void **)&lc.url_cleanup },
		{ "curl_free", (void **)&lc.free },
	};
	void *h = NULL;
	size_t i;

	for (i = 0; names[i] != NULL && h == NULL; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		lc.error = "libcurl is not installed";
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if ((*syms[i].slot = dlsym(h, syms[i].sym)) == NULL) {
			lc.error = "libcurl is too old (no curl_url)";
			return;
		}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		lc.error = "libcurl did not initialize";
}

/* Load libcurl once; 0, or -1 with why (left alone on success). */
static int
lc_ready(const char **why)
{
	pthread_once(&lc_once, lc_load);
	if (lc.error != NULL)
		*why = lc.error;
	return lc.error == NULL ? 0 : -1;
}

struct hook {
	pthread_t	 h_thread;
	pthread_mutex_t	 h_lock;	/* guards h_wake and h_done */
	pthread_cond_t	 h_cond;	/* signalled when they or h_stop change */
	int		 h_wake;	/* events committed since the last look */
	int		 h_done;	/* the thread has finished */
	atomic_int	 h_stop;	/* hook_stop was called */
	struct db	 h_db;		/* the thread's own connection */
	struct hook_conn h_conn;
	int		 h_failing;	/* the store's trouble is logged */
};

/* The store failed us (disk full, busy): say so once, not per retry. */
static void
store_trouble(struct hook *h, int64_t id, const char *why)
{
	if (h->h_failing)
		return;
	h->h_failing = 1;
	if (id > 0)
		log_warnx("webhook: event %lld: %s (retrying quietly)",
		    (long long)id, why);
	else
		log_warnx("webhook: %s (retrying quietly)", why);
}

/* HMAC-SHA256 of msg with key into md; 0 or -1. */
static int
hmac256(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int mdlen = 0;

	if (keylen > INT32_MAX || HMAC(EVP_sha256(), keylen ? key : "",
	    (int)keylen, msg, len, md, &mdlen) == NULL || mdlen != 32)
		return -1;
	return 0;
}

int
hook_sign(const void *key, size_t keylen, const void *msg, size_t len,
    char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, mdlen = 32;

	hex[0] = '\0';
	if (hmac256(key, keylen, msg, len, md) == -1)
		return -1;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

int
hook_std_key(const char *secret, unsigned char *key, size_t *keylen)
{
	const char *b64;
	size_t n, eq;
	int got;

	if (strncmp(secret, HOOK_STD_PREFIX, strlen(HOOK_STD_PREFIX)) != 0) {
		*keylen = strlen(secret);
		memcpy(key, secret, *keylen);
		return 0;
	}
	b64 = secret + strlen(HOOK_STD_PREFIX);
	n = strlen(b64);
	eq = strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/");
	/* whsec_ and padded base64: '=' only at the end, at most two */
	if (n == 0 || n % 4 != 0 || n > INT32_MAX || n - eq > 2 ||
	    strspn(b64 + eq, "=") != n - eq)
		return -1;
	if ((got = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n)) <
	    0 || (size_t)got < n - eq)
		return -1;
	*keylen = (size_t)got - (n - eq);	/* DecodeBlock counts padding */
	return *keylen > 0 ? 0 : -1;
}

int
hook_std_sign(const char *secret, const char *id, int64_t ts,
    const char *body, size_t len, char *sig, size_t siglen)
{
	unsigned char md[EVP_MAX_MD_SIZE], *key;
	size_t keylen, n;
	char *msg;
	int rc = -1;

	if (siglen < HOOK_STD_SIG_LEN)
		return -1;
	key = malloc(strlen(secret) + 1);
	n = strlen(id) + 24 + len;
	msg = malloc(n + 1);
	if (key == NULL || msg == NULL ||
	    hook_std_key(secret, key, &keylen) == -1)
		goto done;
	n = (size_t)snprintf(msg, n + 1, "%s.%lld.", id, (long long)ts);
	memcpy(msg + n, body, len);
	if (hmac256(key, keylen, msg, n + len, md) == -1)
		goto done;
	memcpy(sig, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)sig + 3, md, 32);
	rc = 0;
done:
	if (key != NULL)
		OPENSSL_cleanse(key, strlen(secret));
	free(key);
	free(msg);
	return rc;
}

int
hook_url_check(const char *url, const char **why)
{
	CURLU *u;
	const char *p;
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	*why = "not a URL (http://HOST[:PORT]/PATH or https://...)";
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "a URL has no blanks or control characters";
			return -1;
		}
	/* libcurl mends "http:/h" into http://h; say what it meant. */
	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0) {
		*why = "the URL must start with http:// or https://";
		return -1;
	}
	/* libcurl reads "http:///x" as host x; an operator would not. */
	if (strstr(url, ":///") != NULL) {
		*why = "the URL has no host";
		return -1;
	}
	if (lc_ready(why) == -1)
		return -1;
	if ((u = lc.url()) == NULL) {
		*why = "out of memory";
		return -1;
	}
	if (lc.url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK)
		goto done;
	if (lc.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		*why = "the URL must start with http:// or https://";
		goto done;
	}
	if (lc.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		*why = "the URL has no host";
		goto done;
	}
	rc = 0;
done:
	lc.free(scheme);
	lc.free(host);
	lc.url_cleanup(u);
	return rc;
}

/* curl's progress callback: returning nonzero abandons the request. */
static int
conn_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	atomic_int *stop = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return stop != NULL && atomic_load(stop);
}

/* Keep the start of the receiver's answer, for error messages. */
static size_t
conn_write(char *data, size_t size, size_t n, void *arg)
{
	struct hook_conn *hc = arg;
	size_t i;

	for (i = 0; i < size * n && hc->hc_answer_len < HOOK_ANSWER_MAX; i++)
		hc->hc_answer[hc->hc_answer_len++] = data[i] >= 0x20 &&
		    data[i] < 0x7f ? data[i] : ' ';
	hc->hc_answer[hc->hc_answer_len] = '\0';
	return size * n;
}

static void
conn_free(struct hook_conn *hc)
{
	if (hc->hc_curl != NULL)
		lc.easy_cleanup(hc->hc_curl);
	hc->hc_curl = NULL;
}

/* Set up hc: what every request shares. 0, or -1 with why in err. */
static int
conn_init(struct hook_conn *hc, atomic_int *stop, char *err, size_t errlen)
{
	const char *why;
	CURL *c;
	int rc;

	memset(hc, 0, sizeof(*hc));
	hc->hc_stop = stop;
	if (gethostname(hc->hc_host, sizeof(hc->hc_host)) == -1)
		snprintf(hc->hc_host, sizeof(hc->hc_host), "localhost");
	hc->hc_host[sizeof(hc->hc_host) - 1] = '\0';
	if (lc_ready(&why) == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if ((c = hc->hc_curl = lc.easy_init()) == NULL) {
		snprintf(err, errlen, "cannot initialize libcurl");
		return -1;
	}
	rc = lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc |= lc.easy_setopt(c, CURLOPT_USERAGENT,
	    "vmsched/" VMSCHED_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	rc |= lc.easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc |= lc.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= lc.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	rc |= lc.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= lc.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= lc.easy_setopt(c, CURLOPT_ERRORBUFFER, hc->hc_errbuf);
	rc |= lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, conn_write);
	rc |= lc.easy_setopt(c, CURLOPT_WRITEDATA, hc);
	rc |= lc.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	rc |= lc.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, conn_progress);
	rc |= lc.easy_setopt(c, CURLOPT_XFERINFODATA, stop);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl refused an option");
		conn_free(hc);
		return -1;
	}
	return 0;
}

/* Append "name: value" to a header list; NULL on ENOMEM (list freed). */
static struct curl_slist *
header(struct curl_slist *list, const char *name, const char *value)
{
	struct curl_slist *next;
	char line[256];

	snprintf(line, sizeof(line), "%s: %s", name, value);
	if ((next = lc.slist_append(list, line)) == NULL)
		lc.slist_free_all(list);
	return next;
}

/*
 * Post body for ev to the webhook wh and fill *ht with what came back.
 * 0 when the request was made (whatever the answer), 1 if it was abandoned
 * because the sender is stopping (not an attempt), -1 if it could not be
 * made at all (ht_error says why).
 */
static int
conn_post(struct hook_conn *hc, const struct db_webhook *wh,
    const struct hook_event *ev, const char *body, struct hook_try *ht)
{
	struct curl_slist *hdrs;
	CURL *c = hc->hc_curl;
	CURLcode res;
	curl_off_t after = 0;
	int64_t timeout, now_s = now_ms() / 1000;
	char id[32], sig[80], hex[65], ts[32], std[HOOK_STD_SIG_LEN];
	size_t len = strlen(body);

	memset(ht, 0, sizeof(*ht));
	snprintf(id, sizeof(id), "%lld", (long long)ev->he_id);
	/* "Expect:" stops curl from waiting for a 100 Continue. */
	hdrs = header(NULL, "Content-Type", "application/json");
	if (hdrs != NULL)
		hdrs = header(hdrs, "X-Vmsched-Event", ev->he_event);
	if (hdrs != NULL)
		hdrs = header(hdrs, "X-Vmsched-Delivery", id);
	if (hdrs != NULL && wh->wh_secret != NULL) {
		if (hook_sign(wh->wh_secret, strlen(wh->wh_secret), body, len,
		    hex) == -1) {
			lc.slist_free_all(hdrs);
			snprintf(ht->ht_error, sizeof(ht->ht_error),
			    "cannot compute the signature");
			return -1;
		}
		snprintf(sig, sizeof(sig), "sha256=%s", hex);
		hdrs = header(hdrs, "X-Vmsched-Signature-256", sig);
	}
	/* Standard Webhooks 1.0: the id, this attempt's time, and their
	 * signature with the body. */
	snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
	if (hdrs != NULL)
		hdrs = header(hdrs, "webhook-id", id);
	if (hdrs != NULL)
		hdrs = header(hdrs, "webhook-timestamp", ts);
	if (hdrs != NULL && wh->wh_secret != NULL) {
		if (hook_std_sign(wh->wh_secret, id, now_s, body, len, std,
		    sizeof(std)) == -1) {
			lc.slist_free_all(hdrs);
			snprintf(ht->ht_error, sizeof(ht->ht_error),
			    "cannot compute the webhook-signature");
			return -1;
		}
		hdrs = header(hdrs, "webhook-signature", std);
	}
	if (hdrs != NULL)
		hdrs = lc.slist_append(hdrs, "Expect:");
	if (hdrs == NULL) {
		snprintf(ht->ht_error, sizeof(ht->ht_error), "out of memory");
		return -1;
	}
	timeout = wh->wh_timeout_ms > 0 ? wh->wh_timeout_ms : HOOK_TIMEOUT_MS;
	hc->hc_errbuf[0] = '\0';
	hc->hc_answer[0] = '\0';
	hc->hc_answer_len = 0;
	lc.easy_setopt(c, CURLOPT_URL, wh->wh_url);
	lc.easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	lc.easy_setopt(c, CURLOPT_POSTFIELDS, body);
	lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout <
	    HOOK_CONNECT_TIMEOUT_MS ? timeout : HOOK_CONNECT_TIMEOUT_MS));
	res = lc.easy_perform(c);
	lc.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	lc.slist_free_all(hdrs);
	if (res == CURLE_ABORTED_BY_CALLBACK && hc->hc_stop != NULL &&
	    atomic_load(hc->hc_stop))
		return 1;
	if (res != CURLE_OK) {
		ht->ht_timeout = res == CURLE_OPERATION_TIMEDOUT;
		snprintf(ht->ht_error, sizeof(ht->ht_error), "%s",
		    hc->hc_errbuf[0] ? hc->hc_errbuf : lc.easy_strerror(res));
		return 0;
	}
	while (hc->hc_answer_len > 0 &&
	    hc->hc_answer[hc->hc_answer_len - 1] == ' ')
		hc->hc_answer[--hc->hc_answer_len] = '\0';
	lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ht->ht_status);
	if (lc.easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
	    after > 0)
		ht->ht_retry_after_ms = (int64_t)after * 1000;
	if (ht->ht_status < 200 || ht->ht_status > 299)
		snprintf(ht->ht_error, sizeof(ht->ht_error), "HTTP %ld%s%s",
		    ht->ht_status, hc->hc_answer[0] ? ": " : "",
		    hc->hc_answer);
	return 0;
}

/*
 * Build ev's body as wh's format says and post it. As conn_post, and -1
 * with db->db_err when the body cannot be built.
 */
static int
deliver(struct db *db, struct hook_conn *hc, const struct db_webhook *wh,
    const struct hook_event *ev, struct hook_try *ht)
{
	char text[1024], *body = NULL;
	int slack = wh->wh_format != NULL && strcmp(wh->wh_format, "slack") ==
	    0, rc;

	memset(ht, 0, sizeof(*ht));
	if (slack)
		hook_summary(ev, hc->hc_host, text, sizeof(text));
	if (db_outbox_body(db, ev->he_id, hc->hc_host, slack ? text : NULL,
	    &body) != DB_OK) {
		snprintf(ht->ht_error, sizeof(ht->ht_error), "%.200s",
		    db->db_err);
		return -1;
	}
	rc = conn_post(hc, wh, ev, body, ht);
	free(body);
	return rc;
}

/*
 * Send what is due, oldest first, until the queue is empty, its head must
 * wait, or a stop. Returns how long to sleep before looking again.
 */
static int64_t
hook_pass(struct hook *h)
{
	struct hook_policy hp = { HOOK_RETRY_INITIAL_MS, HOOK_RETRY_MAX_MS,
	    HOOK_GIVE_UP_MS };
	struct db_webhook wh;
	struct hook_event ev;
	struct hook_try ht;
	enum hook_verdict v;
	int64_t next_at, now, wait_ms = HOOK_IDLE_MS;
	char when[32];
	int rc;

	memset(&wh, 0, sizeof(wh));
	memset(&ev, 0, sizeof(ev));
	hook_event_clear(&ev);
	while (!atomic_load(&h->h_stop)) {
		/* The settings are read afresh for every event: the CLI may
		 * change them while the daemon runs. */
		if ((rc = db_webhook_get(&h->h_db, &wh)) != DB_OK) {
			if (rc != DB_NOTFOUND) {
				store_trouble(h, 0, h->h_db.db_err);
				wait_ms = HOOK_DBERR_MS;
			}
			break;
		}
		if ((rc = db_outbox_head(&h->h_db, &ev)) != DB_OK) {
			if (rc != DB_NOTFOUND) {
				store_trouble(h, 0, h->h_db.db_err);
				wait_ms = HOOK_DBERR_MS;
			}
			break;
		}
		now = now_ms();
		if (ev.he_next_at > now) {
			if (ev.he_next_at - now < wait_ms)
				wait_ms = ev.he_next_at - now;
			break;
		}
		if (h->h_conn.hc_curl == NULL && conn_init(&h->h_conn,
		    &h->h_stop, ht.ht_error, sizeof(ht.ht_error)) == -1) {
			store_trouble(h, ev.he_id, ht.ht_error);
			wait_ms = HOOK_DBERR_MS;
			break;
		}
		if ((rc = deliver(&h->h_db, &h->h_conn, &wh, &ev, &ht)) == 1)
			break;
		if (rc == -1) {
			/* Not the receiver's fault, and not an attempt. */
			store_trouble(h, ev.he_id, ht.ht_error);
			wait_ms = HOOK_DBERR_MS;
			break;
		}
		hp.hp_give_up_ms = wh.wh_give_up_ms;
		now = now_ms();
		v = hook_retry(&hp, ht.ht_status, ht.ht_retry_after_ms,
		    ev.he_attempts + 1, ev.he_time, now, &next_at);
		if (v == HOOK_RETRY)
			log_warnx("webhook: event %lld (%s): %s; retry in %s",
			    (long long)ev.he_id, ev.he_event, ht.ht_error,
			    value_fmt_duration(next_at - now, when,
			    sizeof(when)));
		else if (v == HOOK_FAILED)
			log_warnx("webhook: event %lld (%s): %s; given up",
			    (long long)ev.he_id, ev.he_event, ht.ht_error);
		if (db_outbox_result(&h->h_db, ev.he_id, "pending", v, next_at,
		    v == HOOK_DELIVERED ? NULL : ht.ht_error) != DB_OK) {
			store_trouble(h, ev.he_id, h->h_db.db_err);
			wait_ms = HOOK_DBERR_MS;
			break;
		}
		if (h->h_failing) {
			h->h_failing = 0;
			log_info("webhook: the store works again");
		}
		hook_event_clear(&ev);
		db_webhook_free(&wh);
	}
	hook_event_clear(&ev);
	db_webhook_free(&wh);
	return wait_ms;
}

/* Sleep up to ms or until woken; returns whether to stop. */
static int
hook_sleep(struct hook *h, int64_t ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->h_lock);
	while (!h->h_wake && !atomic_load(&h->h_stop))
		if (pthread_cond_timedwait(&h->h_cond, &h->h_lock, &ts) ==
		    ETIMEDOUT)
			break;
	h->h_wake = 0;
	stop = atomic_load(&h->h_stop);
	pthread_mutex_unlock(&h->h_lock);
	return stop;
}

static void *
hook_main(void *arg)
{
	struct hook *h = arg;

	while (!hook_sleep(h, hook_pass(h)))
		;
	conn_free(&h->h_conn);
	db_close(&h->h_db);
	pthread_mutex_lock(&h->h_lock);
	h->h_done = 1;
	pthread_cond_broadcast(&h->h_cond);
	pthread_mutex_unlock(&h->h_lock);
	return NULL;
}

struct hook *
hook_start(const char *dbpath, char *err, size_t errlen)
{
	struct hook *h;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc, locks = 0;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "webhook: %s", strerror(errno));
		return NULL;
	}
	atomic_init(&h->h_stop, 0);
	h->h_wake = 1;		/* look at once: events may be waiting */
	if ((rc = db_open(&h->h_db, dbpath, -1)) != DB_OK) {
		snprintf(err, errlen, "webhook: %s", h->h_db.db_err);
		goto fail;
	}
	/* The connection (and libcurl with its thirty-odd libraries, some
	 * 4 MiB) waits for the first event to deliver: a daemon without a
	 * webhook never loads it. */
	/* Deadlines on the monotonic clock, like every timer of ours. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&h->h_cond, &ca) != 0 ||
	    pthread_mutex_init(&h->h_lock, NULL) != 0) {
		snprintf(err, errlen, "webhook: cannot set up the sender's "
		    "lock");
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	locks = 1;
	/* Signals stay with the daemon's thread and its self-pipe. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&h->h_thread, NULL, hook_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "webhook: cannot start the sender: %s",
		    strerror(rc));
		goto fail;
	}
	return h;
fail:
	if (locks) {
		pthread_cond_destroy(&h->h_cond);
		pthread_mutex_destroy(&h->h_lock);
	}
	conn_free(&h->h_conn);
	db_close(&h->h_db);
	free(h);
	return NULL;
}

void
hook_wake(struct hook *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->h_lock);
	h->h_wake = 1;
	pthread_cond_signal(&h->h_cond);
	pthread_mutex_unlock(&h->h_lock);
}

void
hook_stop(struct hook *h)
{
	struct timespec ts;
	int done;

	if (h == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += HOOK_STOP_WAIT_MS / 1000;
	pthread_mutex_lock(&h->h_lock);
	atomic_store(&h->h_stop, 1);
	pthread_cond_broadcast(&h->h_cond);
	while (!h->h_done)
		if (pthread_cond_timedwait(&h->h_cond, &h->h_lock, &ts) ==
		    ETIMEDOUT)
			break;
	done = h->h_done;
	pthread_mutex_unlock(&h->h_lock);
	if (!done) {
		/* It still owns h; leave both to the process's exit. */
		log_warnx("webhook: the sender did not stop within %d ms; "
		    "leaving it", HOOK_STOP_WAIT_MS);
		pthread_detach(h->h_thread);
		return;
	}
	pthread_join(h->h_thread, NULL);
	pthread_cond_destroy(&h->h_cond);
	pthread_mutex_destroy(&h->h_lock);
	free(h);
}

int
hook_test(struct db *db, long uid, struct hook_try *ht)
{
	struct db_webhook wh;
	struct hook_event ev;
	struct hook_conn hc;
	enum hook_verdict v;
	int64_t id;
	char err[256];
	int rc;

	memset(ht, 0, sizeof(*ht));
	memset(&ev, 0, sizeof(ev));
	hook_event_clear(&ev);
	if ((rc = db_webhook_get(db, &wh)) != DB_OK) {
		db_webhook_free(&wh);
		return rc;
	}
	if (conn_init(&hc, NULL, err, sizeof(err)) == -1) {
		db_webhook_free(&wh);
		return db_fail(db, DB_ERR, "webhook: %s", err);
	}
	if ((rc = db_outbox_add(db, "webhook.test", uid, NULL, &id)) != DB_OK ||
	    (rc = db_outbox_get(db, id, &ev)) != DB_OK)
		goto done;
	if (deliver(db, &hc, &wh, &ev, ht) == -1) {
		rc = db_fail(db, DB_ERR, "%s", ht->ht_error);
		goto done;
	}
	v = ht->ht_status >= 200 && ht->ht_status <= 299 ? HOOK_DELIVERED :
	    HOOK_FAILED;
	rc = db_outbox_result(db, id, "none", v, 0, v == HOOK_DELIVERED ?
	    NULL : ht->ht_error);
done:
	hook_event_clear(&ev);
	conn_free(&hc);
	db_webhook_free(&wh);
	return rc;
}

/*
 * cmd-webhook.c: vmsched webhook set|unset|test|show, the alert settings.
 * set replaces the whole webhook (URL, secret, event filter, format) after
 * checking every value, so a bad one changes nothing; unset removes it and
 * takes pending events out of the queue; test sends a webhook.test event
 * now and waits for the answer; show (also plain `webhook`) says what is
 * set, never the secret itself, only whether there is one.
 *
 * Exit codes of test: 0 on a 2xx answer; 75 (EX_TEMPFAIL) when the
 * receiver did not answer in time; 69 (EX_UNAVAILABLE) for any other
 * failure (connection refused, DNS, TLS, a non-2xx status); 64 when no
 * webhook is set.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SECRET_MAX	1024
#define URL_MAX		2048

struct set_args {
	const char	*sa_url;
	char		 sa_secret[SECRET_MAX + 2];
	int		 sa_has_secret;
	char		 sa_events[1024];
	int		 sa_has_events;
	const char	*sa_format;
};

/* --secret -: the secret is the first line of standard input. */
static int
read_secret(char *buf, size_t len)
{
	if (fgets(buf, (int)len, stdin) == NULL)
		return cli_err(EX_USAGE, "webhook set: --secret -: nothing on "
		    "standard input");
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!text_utf8(buf, strlen(buf)))
		return cli_err(EX_USAGE, "webhook set: --secret -: not valid "
		    "UTF-8; vmsched takes UTF-8 text");
	return 0;
}

static int
set_opt(int opt, const char *arg, void *p)
{
	struct set_args *sa = p;
	unsigned char key[SECRET_MAX + 1];
	char why[256];
	const char *s;
	size_t keylen;
	int rc;

	switch (opt) {
	case 's':
		if (strcmp(arg, "-") == 0) {
			if ((rc = read_secret(sa->sa_secret,
			    sizeof(sa->sa_secret))) != 0)
				return rc;
		} else
			snprintf(sa->sa_secret, sizeof(sa->sa_secret), "%s",
			    arg);
		if (sa->sa_secret[0] == '\0')
			return cli_err(EX_USAGE, "webhook set: --secret: empty");
		if (strlen(sa->sa_secret) > SECRET_MAX)
			return cli_err(EX_USAGE, "webhook set: --secret: "
			    "longer than %d bytes", SECRET_MAX);
		for (s = sa->sa_secret; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return cli_err(EX_USAGE, "webhook set: "
				    "--secret: control characters are not "
				    "allowed");
		/* Standard Webhooks: "whsec_" promises base64 after it */
		if (hook_std_key(sa->sa_secret, key, &keylen) == -1)
			return cli_err(EX_USAGE, "webhook set: --secret: "
			    "whsec_ must be followed by padded base64 (or "
			    "leave whsec_ out: a raw secret)");
		sa->sa_has_secret = 1;
		break;
	case 'e':
		if (hook_filter_parse(arg, sa->sa_events,
		    sizeof(sa->sa_events), why, sizeof(why)) == -1)
			return cli_err(EX_USAGE, "webhook set: --events %s: %s",
			    arg, why);
		sa->sa_has_events = 1;
		break;
	case 'f':
		if (strcmp(arg, "json") != 0 && strcmp(arg, "slack") != 0)
			return cli_err(EX_USAGE, "webhook set: --format %s: "
			    "json or slack", arg);
		sa->sa_format = arg;
		break;
	}
	return 0;
}

static int
webhook_set(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct set_args sa;
	const char *why;
	int rc, first;

	memset(&sa, 0, sizeof(sa));
	sa.sa_format = "json";
	/* argv[0] is "set"; the URL may come before or after the options. */
	if (argc > 1 && argv[1][0] != '-') {
		sa.sa_url = argv[1];
		argc--;
		argv++;
	}
	if ((rc = cli_getopt(self, "set", argc, argv, set_opt, &sa, &first,
	    NULL)) != 0)
		return rc;
	if (sa.sa_url == NULL && first < argc)
		sa.sa_url = argv[first++];
	if (sa.sa_url == NULL) {
		cli_err(0, "webhook set: the URL is missing");
		return cli_usage(self);
	}
	if (first < argc)
		return cli_err(EX_USAGE, "webhook set: %s: unexpected",
		    argv[first]);
	if (strlen(sa.sa_url) > URL_MAX)
		return cli_err(EX_USAGE, "webhook set: the URL is longer than "
		    "%d bytes", URL_MAX);
	if (hook_url_check(sa.sa_url, &why) == -1)
		return cli_err(EX_USAGE, "webhook set: %s: %s", sa.sa_url, why);
	if ((rc = cli_open(cli)) != 0)
		return rc;
	if ((rc = db_webhook_set(&cli->c_db, sa.sa_url, sa.sa_has_secret ?
	    sa.sa_secret : NULL, sa.sa_has_events ? sa.sa_events : NULL,
	    sa.sa_format)) != DB_OK)
		return cli_dberr(cli, rc);
	return 0;
}

static int
webhook_unset(struct cli *cli)
{
	long cancelled;
	int rc;

	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	rc = db_webhook_unset(&cli->c_db, &cancelled);
	if (rc == DB_NOTFOUND)
		return 0;	/* already so */
	if (rc != DB_OK)
		return cli_dberr(cli, rc);
	if (cancelled > 0)
		printf("%ld pending event%s will not be sent\n", cancelled,
		    cancelled == 1 ? "" : "s");
	return 0;
}

static int
webhook_test(struct cli *cli)
{
	struct hook_try ht;
	int rc;

	if ((rc = cli_open_write(cli)) != 0)
		return rc;
	if ((rc = hook_test(&cli->c_db, cli->c_uid, &ht)) == DB_NOTFOUND)
		return cli_err(EX_USAGE, "webhook test: no webhook is set "
		    "(vmsched webhook set URL)");
	if (rc != DB_OK)
		return cli_dberr(cli, rc);
	if (ht.ht_status >= 200 && ht.ht_status <= 299) {
		printf("HTTP %ld\n", ht.ht_status);
		return 0;
	}
	return cli_err(ht.ht_timeout ? EX_TEMPFAIL : EX_UNAVAILABLE,
	    "webhook test: %s", ht.ht_error);
}

static void
line(const char *key, const char *value)
{
	cli_field(8, key, value);
}

static int
webhook_show(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	struct db_webhook wh;
	char url[URL_MAX + 16], n[32], *json;
	int64_t count;
	int rc, first;

	if ((rc = cli_getopt(self, "show", argc, argv, cli_json_opt,
	    cli, &first, NULL)) != 0)
		return rc;
	if (first < argc)
		return cli_err(EX_USAGE, "webhook show: %s: unexpected",
		    argv[first]);
	if ((rc = cli_open_read(cli)) != 0)
		return rc;
	rc = db_webhook_get(&cli->c_db, &wh);
	if (rc != DB_OK && rc != DB_NOTFOUND) {
		db_webhook_free(&wh);
		return cli_dberr(cli, rc);
	}
	if (wh.wh_url != NULL)
		hook_url_redact(wh.wh_url, url, sizeof(url));
	if (cli->c_json) {
		rc = db_webhook_json(&cli->c_db, wh.wh_url ? url : NULL, &json);
		db_webhook_free(&wh);
		return rc == DB_OK ? cli_print_json(json) : cli_dberr(cli, rc);
	}
	if (wh.wh_url == NULL) {
		db_webhook_free(&wh);
		puts("no webhook is set");
		return 0;
	}
	line("url", url);
	line("secret", wh.wh_secret ? "set (deliveries are signed)" :
	    "not set (deliveries are not signed)");
	line("events", wh.wh_events ? wh.wh_events :
	    "all but vm.defined, vm.changed, vm.removed (the default)");
	line("format", wh.wh_format);
	db_webhook_free(&wh);
	if ((rc = db_outbox_count(&cli->c_db, "pending", &count)) != DB_OK)
		return cli_dberr(cli, rc);
	snprintf(n, sizeof(n), "%lld", (long long)count);
	line("pending", n);
	if ((rc = db_outbox_count(&cli->c_db, "failed", &count)) != DB_OK)
		return cli_dberr(cli, rc);
	snprintf(n, sizeof(n), "%lld", (long long)count);
	line("failed", n);
	return 0;
}

static int
webhook(struct cli *cli, const struct cmd *self, int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return webhook_show(cli, self, argc, argv);
	if (strcmp(argv[1], "set") == 0)
		return webhook_set(cli, self, argc - 1, argv + 1);
	if (strcmp(argv[1], "unset") == 0 && argc == 2)
		return webhook_unset(cli);
	if (strcmp(argv[1], "test") == 0 && argc == 2)
		return webhook_test(cli);
	if (strcmp(argv[1], "show") == 0)
		return webhook_show(cli, self, argc - 1, argv + 1);
	if (strcmp(argv[1], "unset") == 0 || strcmp(argv[1], "test") == 0)
		cli_err(0, "webhook %s: %s: unexpected", argv[1], argv[2]);
	else
		cli_err(0, "webhook: %s: no such subcommand", argv[1]);
	return cli_usage(self);
}

static const struct cli_opt webhook_opts[] = {
	{ "secret", 's', CV_TEXT, "S", NULL, "set", 0 },
	{ "events", 'e', CV_EVENTS, "LIST", NULL, "set", 0 },
	{ "format", 'f', CV_WORDS, "FORMAT", "json slack", "set", 0 },
	{ "json", 'j', CV_NONE, NULL, NULL, "show", 0 },
	{ NULL, 0, CV_NONE, NULL, NULL, NULL, 0 },
};

const struct cmd cmd_webhook = {
	"webhook", "set URL [--secret S|-] [--events LIST] "
	"[--format json|slack] | unset | test | show [--json]",
	"where alerts go: set (replaces it all), unset, test, show",
	0, -1, webhook, .cmd_opts = webhook_opts, .cmd_operand = CV_WORDS,
	.cmd_words = "set unset test show",
};

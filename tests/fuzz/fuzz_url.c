/*
 * fuzz_url.c: libFuzzer target for the webhook URL check of webhook set
 * (hook_url_check in sched/hook.c, libcurl's URL parser behind it) and the
 * redaction that shows a URL without its password. A refused URL has a
 * reason, never a NULL one; an accepted one is http:// or https:// with
 * no blank or control byte in it; the redacted form fits its buffer and
 * holds no password. Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sched.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL, *p, *at, *colon, *end;
	char *s, shown[64];

	if (size > 4096 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (hook_url_check(s, &why) == -1) {
		if (why == NULL || why[0] == '\0')
			abort();
	} else {
		if (strncasecmp(s, "http://", 7) != 0 &&
		    strncasecmp(s, "https://", 8) != 0)
			abort();
		for (p = s; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				abort();
	}
	hook_url_redact(s, shown, sizeof(shown));
	if (memchr(shown, '\0', sizeof(shown)) == NULL)
		abort();
	/* "scheme://user:password@host": the password is not shown. */
	if ((p = strstr(s, "://")) != NULL) {
		end = p + 3 + strcspn(p + 3, "/?#");
		for (at = end; at > p + 3 && at[-1] != '@'; at--)
			;
		colon = at > p + 3 ? memchr(p + 3, ':', (size_t)(at - 1 -
		    (p + 3))) : NULL;
		if (colon != NULL && strlen(s) < 40 &&
		    (strstr(shown, ":***@") == NULL ||
		    strncmp(shown, s, (size_t)(colon - s)) != 0))
			abort();
	}
	free(s);
	return 0;
}

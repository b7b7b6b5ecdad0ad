/*
 * fuzz_since.c: libFuzzer target for the --since parser of vmsched log
 * (value_since in sched/value.c): a duration ago or a local date and time,
 * turned into Unix milliseconds against a fixed now. A refused value has a
 * reason and leaves the output alone; an accepted duration lands at most
 * a year before now; an accepted date is one mktime took without moving
 * its day (no February 30). Any breach aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"

#define NOW_MS		1796000000000LL		/* late 2026 */
#define YEAR_MS		(366LL * 24 * 3600 * 1000)
#define UNTOUCHED	(-424242)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	int64_t ms = UNTOUCHED, ago;
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (value_since(s, NOW_MS, &ms, &why) == -1) {
		if (why == NULL || why[0] == '\0' || ms != UNTOUCHED)
			abort();
	} else if (value_duration(s, &ago, &why) == 0) {
		if (ms != NOW_MS - ago || ms < NOW_MS - YEAR_MS)
			abort();
	} else if (ms % 1000 != 0)
		abort();	/* dates have whole seconds */
	free(s);
	return 0;
}

/*
 * fuzz_vmx.c: libFuzzer target for sched/vmx.c. The first byte picks the
 * VM's stop and suspend signals, the rest is a .vmx file. Parse, check,
 * describe every finding, and when the file parses, fix it and hold the
 * fix to its contract: the fixed text parses, has no fixable finding left,
 * and fixing it again changes nothing. Any breach aborts.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
describe_all(const struct vmx *vx)
{
	char buf[512];
	size_t i;

	for (i = 0; i < vx->vx_nfind; i++) {
		vmx_describe(vx, &vx->vx_find[i], 0, buf, sizeof(buf));
		if (vx->vx_find[i].vf_fixable)
			vmx_describe(vx, &vx->vx_find[i], 1, buf,
			    sizeof(buf));
		if (strlen(buf) >= sizeof(buf))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGHUP, SIGKILL };
	static const int suspends[] = { SIGHUP, SIGUSR1, SIGTERM, SIGTSTP };
	struct vmx vx, again;
	char *out = NULL, *out2 = NULL;
	size_t len, len2, i;
	int stop, suspend;

	if (size == 0)
		return 0;
	stop = stops[data[0] & 3];
	suspend = suspends[(data[0] >> 2) & 3];
	data++;
	size--;

	if (vmx_parse(&vx, (const char *)data, size) == -1 ||
	    vmx_check(&vx, stop, suspend) == -1)
		abort();	/* no allocation fails at these sizes */
	describe_all(&vx);
	if (vx.vx_nbad > 0) {
		if (vmx_fix(&vx, &out, &len) != -1)
			abort();
		vmx_free(&vx);
		return 0;
	}
	if (vmx_fix(&vx, &out, &len) == -1 || strlen(out) > len)
		abort();

	if (vmx_parse(&again, out, len) == -1 ||
	    vmx_check(&again, stop, suspend) == -1)
		abort();
	describe_all(&again);
	if (again.vx_nbad > 0)
		abort();
	for (i = 0; i < again.vx_nfind; i++)
		if (again.vx_find[i].vf_fixable)
			abort();
	/* Unfixable findings survive the fix, no more and no fewer. */
	for (i = 0, len2 = 0; i < vx.vx_nfind; i++)
		if (!vx.vx_find[i].vf_fixable)
			len2++;
	if (len2 != again.vx_nfind)
		abort();
	if (vmx_fix(&again, &out2, &len2) == -1 || len2 != len ||
	    memcmp(out, out2, len) != 0)
		abort();
	/* Nothing to fix means nothing changed. */
	for (i = 0; i < vx.vx_nfind && !vx.vx_find[i].vf_fixable; i++)
		;
	if (i == vx.vx_nfind && (len != size || memcmp(out, data, size) != 0))
		abort();
	free(out);
	free(out2);
	vmx_free(&again);
	vmx_free(&vx);
	return 0;
}

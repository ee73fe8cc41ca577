/* SPDX-License-Identifier: MIT */
/* sealinit legacy-fetch: the boot stage's legacy key source, on a running
 * system: unlock, test, or write the key. */
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/legacy/unlock.h"

int legacy_fetch_main(const struct cli_args *a)
{
	const char *dev, *name;
	struct si_legacy_unlock_opts o = { .key_fd = -1 };
	struct si_legacy_unlock_result res;
	struct key_out ko = { .fd = -1 };
	struct si_bootcfg c;
	int r;

	if (!ENABLE_LEGACY_NET)
		return unsupported("legacy-fetch", "legacy network fetch");
	if (a->argc > 2)
		return usage_error("legacy-fetch", "%s", "expected [DEVICE [NAME]]");
	dev = a->argc > 0 ? a->argv[0] : NULL;
	name = a->argc > 1 ? a->argv[1] : NULL;
	if (!a->key_file && !dev)
		return usage_error("legacy-fetch", "%s", "give DEVICE NAME, DEVICE --test, or --key-file");
	if (dev && !name && !a->test)
		return usage_error("legacy-fetch", "%s", "give a NAME to activate, or --test");
	if (a->test && name)
		return usage_error("legacy-fetch", "%s", "--test activates nothing; drop NAME");
	if (load_config("legacy-fetch", a->config, true, &c) < 0)
		return EXIT_USAGE;
	if (a->key_file && key_out_open("legacy-fetch", a->key_file, &ko) < 0)
		return EXIT_USAGE;
	o.device = dev;
	o.name = name;
	o.key_fd = ko.fd;
	/* The pin of the boot config read: the same check as at boot. */
	o.fixate_volume_key = c.fixate_volume_key[0] ? c.fixate_volume_key : NULL;
	o.bind_name = name ? name : c.data_name;
	r = legacy_unlock("legacy-fetch", &c, &o, &res);
	r = key_out_close("legacy-fetch", &ko, r == 0) ?: r;
	if (r)
		return r;
	if (dev && name)
		printf("Unlocked %s as /dev/mapper/%s (legacy keyslot %d)\n", dev, name, res.keyslot);
	else if (dev)
		printf("The legacy key opens keyslot %d of %s (test only, nothing activated)\n",
		       res.keyslot, dev);
	return 0;
}

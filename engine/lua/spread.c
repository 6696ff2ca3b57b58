// SPDX-License-Identifier: Apache-2.0
//
// The spreading of spread.h, over the aggregators' public interface.
#include "lua/spread.h"

int ptm_spread_functions(struct ptm_function_keys *fk, const struct ptm_agg *in, struct ptm_agg *out)
{
    const struct ptm_agg_entry *e = ptm_agg_entries(in);
    for (uint32_t i = 0, n = ptm_agg_len(in); i < n; i++) {
        uint32_t len;
        const uint32_t *keys = ptm_function_keys_stack(fk, e[i].key[1], &len);
        if (keys == NULL)
            return -1;
        for (uint32_t j = 0; j < len; j++)
            if (ptm_agg_add(out, e[i].key[0], keys[j], e[i].sum) != 0)
                return -1;
    }
    return 0;
}

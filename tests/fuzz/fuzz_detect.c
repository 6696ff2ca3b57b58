// SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: format detection and everything behind it. The bytes go to
// the detectors (gzip, format, OTLP wire version) and then to ptm_decode
// with nothing forced, as `convert` and the service take unknown input:
// gzip, JSON, JSON Lines, the Collector's framed stream, pprof, and OTLP
// protobuf of whichever version the bytes look like.
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_detection(const uint8_t *data, size_t size)
{
    enum ptm_format f = ptm_detect_format(data, size);
    if (f != PTM_FORMAT_OTLP && f != PTM_FORMAT_OTLP_JSON && f != PTM_FORMAT_OTLP_FRAMED &&
        f != PTM_FORMAT_PPROF) {
        fprintf(stderr, "fuzz: ptm_detect_format returned %d\n", (int)f);
        abort();
    }
    struct ptm_otlp_detection det;
    ptm_otlp_detect(data, size, &det);
    bool version_ok = det.version == 0 || (det.version >= 8 && det.version <= 10);
    bool candidate_ok = det.version == 0 || (det.candidates & 1u << (det.version - 8)) != 0;
    bool older_ok = det.unsupported == 0 || (det.unsupported >= 3 && det.unsupported <= 7) ||
                    det.unsupported == PTM_OTLP_V1_4_OR_5 || det.unsupported == PTM_OTLP_V1_4_TO_6;
    if (!version_ok || !candidate_ok || det.candidates > 7 || !older_ok || det.evidence == NULL) {
        fprintf(stderr, "fuzz: ptm_otlp_detect: version %d, candidates %#x, unsupported %d, evidence %s\n",
                det.version, det.candidates, det.unsupported, det.evidence ? det.evidence : "(null)");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_detection(data, size);
    fuzz_decode(data, size, NULL);
    return 0;
}

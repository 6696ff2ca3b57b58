// SPDX-License-Identifier: Apache-2.0
//
// The receivers' shared self-telemetry (receiver.h). Every family carries
// receiver="ID" and transport="grpc"|"http", counted by the receiver that
// answered: one place per fact, so no two families count the same thing.
#include "server/receiver.h"

#include <stdio.h>

#define REQUESTS "ptm_receiver_requests_total"
#define DURATION "ptm_receiver_request_duration_seconds"
#define ACCEPTED "ptm_receiver_accepted_profiles_total"
#define REFUSED "ptm_receiver_refused_profiles_total"
#define SAMPLES "ptm_receiver_accepted_samples_total"
#define OVERLOADED "ptm_receiver_overloaded_requests_total"

static const struct {
    const char *name;
    enum ptm_telemetry_type type;
    const char *help;
} families[] = {
    {REQUESTS, PTM_TELEMETRY_COUNTER,
     "Requests received, by receiver, transport and response status (HTTP status or gRPC code name)."},
    {DURATION, PTM_TELEMETRY_HISTOGRAM, "Time from a request's headers to its response, in seconds."},
    {ACCEPTED, PTM_TELEMETRY_COUNTER, "Profiles decoded, validated and queued for conversion."},
    {REFUSED, PTM_TELEMETRY_COUNTER, "Profiles refused by validation (the rejected ones of a partial success)."},
    {SAMPLES, PTM_TELEMETRY_COUNTER, "Samples of the accepted profiles."},
    {OVERLOADED, PTM_TELEMETRY_COUNTER,
     "Requests refused because the conversion queue was full (HTTP 429, gRPC RESOURCE_EXHAUSTED with RetryInfo)."},
};

void ptm_receiver_telemetry_init(struct ptm_receiver_telemetry *rt, struct ptm_telemetry *telemetry,
                                 const char *id, const char *transport)
{
    char value[160];
    ptm_http_label_value(value, sizeof value, id);
    rt->telemetry = telemetry;
    snprintf(rt->labels, sizeof rt->labels, "receiver=\"%s\",transport=\"%s\"", value, transport);
    for (size_t i = 0; telemetry != NULL && i < sizeof families / sizeof families[0]; i++)
        ptm_telemetry_describe(telemetry, families[i].name, families[i].type, families[i].help);
}

void ptm_receiver_count_request(const struct ptm_receiver_telemetry *rt, const char *code, double seconds)
{
    if (rt->telemetry == NULL)
        return;
    char labels[288];
    snprintf(labels, sizeof labels, "%s,code=\"%s\"", rt->labels, code);
    ptm_telemetry_add(rt->telemetry, REQUESTS, labels, 1);
    ptm_telemetry_observe(rt->telemetry, DURATION, rt->labels, seconds);
}

void ptm_receiver_count_submit(const struct ptm_receiver_telemetry *rt, const struct ptm_submit_result *res)
{
    if (rt->telemetry == NULL)
        return;
    ptm_telemetry_add(rt->telemetry, ACCEPTED, rt->labels, res->accepted_profiles);
    ptm_telemetry_add(rt->telemetry, REFUSED, rt->labels, res->rejected_profiles);
    ptm_telemetry_add(rt->telemetry, SAMPLES, rt->labels, (double)res->accepted_samples);
    if (res->status == PTM_SUBMIT_OVERLOADED)
        ptm_telemetry_add(rt->telemetry, OVERLOADED, rt->labels, 1);
}

void ptm_receiver_observe_http(void *ctx, const struct ptm_http_request *req, unsigned status)
{
    char code[16];
    snprintf(code, sizeof code, "%u", status);
    ptm_receiver_count_request(ctx, code, ptm_http_elapsed(req));
}

// SPDX-License-Identifier: Apache-2.0
//
// An OTLP/HTTP client thread: one libcurl easy handle, so one keep-alive
// connection, POSTing the inputs as application/x-protobuf one request
// after the other. The body is sent from the input's buffer, not copied.
// "Expect: 100-continue" is turned off: the OTLP exporters of the SDKs and
// the Collector do not wait for it, and it would add a round trip.
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load.h"

int load_http_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void load_http_fini(void)
{
    curl_global_cleanup();
}

// Retry-After in seconds (the delta-seconds form), or 0.
static size_t on_header(char *line, size_t size, size_t count, void *userdata)
{
    size_t n = size * count;
    double *retry_after = userdata;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0)
        *retry_after = strtod(line + sizeof name - 1, NULL);
    return n;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    (void)data, (void)userdata;
    return size * count;
}

static enum load_outcome outcome_of(long status)
{
    switch (status) {
    case 200: return LOAD_OK;
    case 429: return LOAD_THROTTLED;
    case 503: return LOAD_UNAVAILABLE;
    default: return LOAD_REFUSED;
    }
}

static CURL *make_handle(const struct load_options *o, struct curl_slist *headers, double *retry_after,
                         char *errbuf)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, o->http_url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, retry_after);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    return h;
}

void *load_http_client(void *arg)
{
    struct load_client *c = arg;
    struct load_shared *s = c->shared;
    const struct load_options *o = s->opts;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
    headers = curl_slist_append(headers, "Expect:");
    if (o->gzip)
        headers = curl_slist_append(headers, "Content-Encoding: gzip");
    double retry_after = 0;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = headers != NULL ? make_handle(o, headers, &retry_after, errbuf) : NULL;
    if (h == NULL) {
        load_note_error(c, "cannot set up a curl handle");
        atomic_store(&s->abort, true);
        curl_slist_free_all(headers);
        return NULL;
    }
    uint64_t n;
    while (load_claim(c, &n)) {
        struct load_record r = {.input = load_input_for(c, n)};
        const struct load_input *in = &s->inputs[r.input];
        if (o->rate > 0)
            load_sleep_until(s, load_due(s, n));
        r.start = o->rate > 0 ? load_due(s, n) : load_now(s);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, in->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in->body_len);
        retry_after = 0;
        errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        r.end = load_now(s);
        long status = 0, connects = 0;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        c->connects += (uint64_t)connects;
        if (rc != CURLE_OK) {
            r.outcome = LOAD_ERROR;
            load_note_error(c, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            r.status = (uint16_t)status;
            r.outcome = (uint8_t)outcome_of(status);
        }
        load_record(c, &r);
        if (rc != CURLE_OK) // no server: do not spin
            load_sleep_until(s, r.end + 0.1);
        if (o->honour_retry_after && retry_after > 0 && (status == 429 || status == 503)) {
            double until = r.end + retry_after;
            load_sleep_until(s, until < s->stop_at ? until : s->stop_at);
        }
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    return NULL;
}

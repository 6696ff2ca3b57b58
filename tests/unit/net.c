// SPDX-License-Identifier: Apache-2.0
//
// The server tests' shared helpers (net.h).
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counts[PTM_CONN_EVENT_COUNT];
static char last_detail[512];

uint64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int net_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

void net_events_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(counts, 0, sizeof counts);
    last_detail[0] = '\0';
    pthread_mutex_unlock(&lock);
}

void net_on_conn_event(void *ctx, enum ptm_conn_event event, const char *detail)
{
    pthread_mutex_lock(&lock);
    counts[event]++;
    if (detail != NULL)
        snprintf(last_detail, sizeof last_detail, "%s", detail);
    pthread_mutex_unlock(&lock);
}

int net_events_of(enum ptm_conn_event event)
{
    pthread_mutex_lock(&lock);
    int n = counts[event];
    pthread_mutex_unlock(&lock);
    return n;
}

bool net_events_reach(enum ptm_conn_event event, int want)
{
    for (int i = 0; i < 300 && net_events_of(event) < want; i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    return net_events_of(event) >= want;
}

bool net_last_detail_has(const char *text)
{
    pthread_mutex_lock(&lock);
    bool has = strstr(last_detail, text) != NULL;
    if (!has)
        print_error("last event detail: \"%s\"\n", last_detail);
    pthread_mutex_unlock(&lock);
    return has;
}

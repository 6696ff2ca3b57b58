// SPDX-License-Identifier: Apache-2.0
//
// The server's resources while the load runs: VmRSS from /proc/PID/status
// and the CPU time from /proc/PID/stat, sampled by a thread of their own so
// a slow server never delays a sample; and a progress line now and then.
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

// The "NAME:  N kB" line of /proc/PID/status, in KiB; 0 when missing.
static uint64_t status_kib(pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = strlen(name);
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            kib = strtoull(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

// utime + stime of a /proc/.../stat file (fields 14 and 15), in seconds;
// < 0 when unreadable. The command name (field 2) may hold spaces: count
// fields from its closing parenthesis.
static double stat_cpu_seconds(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long utime = 0, stime = 0;
    // After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static bool sample_process(pid_t pid, double t, struct load_sample *out)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    out->t = t;
    out->rss_kib = status_kib(pid, "VmRSS");
    out->cpu = stat_cpu_seconds(path);
    return out->rss_kib != 0 && out->cpu >= 0;
}

// Every thread's name and CPU time now.
static void read_threads(pid_t pid, double t, struct load_threads *out)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    out->t = t;
    out->n = 0;
    DIR *dir = opendir(path);
    if (dir == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int tid = atoi(e->d_name);
        if (tid <= 0)
            continue;
        struct load_thread_cpu th = {.tid = tid};
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, tid);
        th.cpu = stat_cpu_seconds(path);
        snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, tid);
        FILE *f = fopen(path, "r");
        if (f == NULL || th.cpu < 0 || fgets(th.name, sizeof th.name, f) == NULL) {
            if (f != NULL)
                fclose(f);
            continue;
        }
        fclose(f);
        th.name[strcspn(th.name, "\n")] = '\0';
        load_grow((void **)&out->items, out->n, &out->cap, sizeof *out->items);
        out->items[out->n++] = th;
    }
    closedir(dir);
}

static void take(struct load_monitor *mon)
{
    if (mon->pid == 0 || mon->gone)
        return;
    struct load_sample smp;
    if (!sample_process(mon->pid, load_now(mon->shared), &smp)) {
        mon->gone = true;
        return;
    }
    load_grow((void **)&mon->samples, mon->n, &mon->cap, sizeof *mon->samples);
    mon->samples[mon->n++] = smp;
}

struct progress {
    double t;
    uint64_t finished, ok_bytes;
};

static void print_progress(const struct load_monitor *mon, struct progress *last)
{
    struct load_shared *s = mon->shared;
    struct progress now = {load_now(s), atomic_load(&s->finished), atomic_load(&s->ok_bytes)};
    double dt = now.t - last->t;
    if (dt <= 0)
        return;
    fprintf(stderr, "loadgen: %6.1f s  %7.1f req/s  %7.1f MB/s OK", now.t,
            (double)(now.finished - last->finished) / dt, (double)(now.ok_bytes - last->ok_bytes) / 1e6 / dt);
    if (mon->n > 0)
        fprintf(stderr, "  server RSS %.1f MiB", (double)mon->samples[mon->n - 1].rss_kib / 1024);
    fputc('\n', stderr);
    *last = now;
}

// CLOCK_REALTIME (what pthread_cond_timedwait takes) for t seconds since t0.
static struct timespec realtime_at(const struct load_shared *s, double t)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double at = (double)now.tv_sec + (double)now.tv_nsec * 1e-9 + (t - load_now(s));
    struct timespec ts = {(time_t)at, 0};
    ts.tv_nsec = (long)((at - (double)ts.tv_sec) * 1e9);
    return ts;
}

static void *monitor_main(void *arg)
{
    struct load_monitor *mon = arg;
    const struct load_options *o = mon->shared->opts;
    double next_sample = o->sample_interval, next_progress = o->progress;
    struct progress last = {0};
    pthread_mutex_lock(&mon->lock);
    while (!mon->done) {
        double now = load_now(mon->shared);
        if (mon->pid != 0 && mon->threads_start.t == 0 && now >= o->warmup)
            read_threads(mon->pid, now, &mon->threads_start);
        if (now >= next_sample) {
            take(mon);
            next_sample += o->sample_interval;
        }
        if (o->progress > 0 && now >= next_progress) {
            print_progress(mon, &last);
            next_progress += o->progress;
        }
        double next = o->progress > 0 && next_progress < next_sample ? next_progress : next_sample;
        struct timespec until = realtime_at(mon->shared, next);
        pthread_cond_timedwait(&mon->wake, &mon->lock, &until);
    }
    pthread_mutex_unlock(&mon->lock);
    return NULL;
}

void load_monitor_start(struct load_monitor *mon, struct load_shared *shared, pid_t pid)
{
    memset(mon, 0, sizeof *mon);
    mon->shared = shared;
    mon->pid = pid;
    pthread_mutex_init(&mon->lock, NULL);
    pthread_cond_init(&mon->wake, NULL);
    take(mon); // "before": the first sample, before any request
    if (mon->gone)
        load_die("cannot read /proc/%d: is the server running?", (int)pid);
    if (pid != 0 && shared->opts->warmup == 0)
        read_threads(pid, load_now(shared), &mon->threads_start);
    if (pthread_create(&mon->thread, NULL, monitor_main, mon) != 0)
        load_die("cannot start the monitor thread");
}

void load_monitor_stop(struct load_monitor *mon)
{
    pthread_mutex_lock(&mon->lock);
    mon->done = true;
    pthread_cond_signal(&mon->wake);
    pthread_mutex_unlock(&mon->lock);
    pthread_join(mon->thread, NULL);
    take(mon);
    if (mon->pid != 0 && !mon->gone) {
        mon->hwm_kib = status_kib(mon->pid, "VmHWM");
        read_threads(mon->pid, load_now(mon->shared), &mon->threads_end);
    }
}

void load_monitor_fini(struct load_monitor *mon)
{
    free(mon->samples);
    free(mon->threads_start.items);
    free(mon->threads_end.items);
    pthread_mutex_destroy(&mon->lock);
    pthread_cond_destroy(&mon->wake);
}

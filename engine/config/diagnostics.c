// SPDX-License-Identifier: Apache-2.0
//
// Lists of configuration errors and warnings (see diagnostics.h). Each entry
// is one allocation holding its path, message and printable text.
#include "config/diagnostics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Messages longer than this are cut; a config message is one line.
#define MESSAGE_MAX 1024

static int grow(struct ptm_config_diagnostics *list, size_t need)
{
    if (need <= list->cap)
        return 0;
    size_t cap = list->cap ? list->cap * 2 : 8;
    while (cap < need)
        cap *= 2;
    struct ptm_config_diagnostic *items = realloc(list->items, cap * sizeof *items);
    if (items == NULL)
        return -1;
    list->items = items;
    list->cap = cap;
    return 0;
}

// "FILE:LINE:COLUMN: " or "FILE: " or "" into buf.
static void format_location(char *buf, size_t size, const char *file, uint32_t line, uint32_t column)
{
    if (file != NULL && line > 0)
        snprintf(buf, size, "%s:%u:%u: ", file, line, column);
    else if (file != NULL)
        snprintf(buf, size, "%s: ", file);
    else if (line > 0)
        snprintf(buf, size, "line %u, column %u: ", line, column);
    else
        buf[0] = '\0';
}

void ptm_config_diagnostics_addv(struct ptm_config_diagnostics *list, const char *file, uint32_t line,
                                 uint32_t column, const char *path, const char *fmt, va_list ap)
{
    char message[MESSAGE_MAX];
    vsnprintf(message, sizeof message, fmt, ap);
    char location[512];
    format_location(location, sizeof location, file, line, column);
    if (path == NULL)
        path = "";

    size_t path_len = strlen(path), message_len = strlen(message), location_len = strlen(location);
    size_t text_len = location_len + (path_len ? path_len + 2 : 0) + message_len;
    char *block = malloc(path_len + 1 + message_len + 1 + text_len + 1);
    if (block == NULL || grow(list, list->count + 1) != 0) {
        free(block);
        list->out_of_memory = 1;
        return;
    }
    char *p = block;
    memcpy(p, path, path_len + 1);
    char *m = p + path_len + 1;
    memcpy(m, message, message_len + 1);
    char *t = m + message_len + 1;
    if (path_len)
        snprintf(t, text_len + 1, "%s%s: %s", location, path, message);
    else
        snprintf(t, text_len + 1, "%s%s", location, message);

    list->items[list->count++] = (struct ptm_config_diagnostic){
        .line = line, .column = line ? column : 0, .path = p, .message = m, .text = t};
}

void ptm_config_diagnostics_add(struct ptm_config_diagnostics *list, const char *file, uint32_t line,
                                uint32_t column, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptm_config_diagnostics_addv(list, file, line, column, path, fmt, ap);
    va_end(ap);
}

// Insertion sort: lists are short and mostly in order already, and it is
// stable, which qsort is not.
void ptm_config_diagnostics_sort(struct ptm_config_diagnostics *list)
{
    for (size_t i = 1; i < list->count; i++) {
        struct ptm_config_diagnostic d = list->items[i];
        size_t j = i;
        while (j > 0 && (list->items[j - 1].line > d.line ||
                         (list->items[j - 1].line == d.line && list->items[j - 1].column > d.column))) {
            list->items[j] = list->items[j - 1];
            j--;
        }
        list->items[j] = d;
    }
}

int ptm_config_diagnostics_move(struct ptm_config_diagnostics *to, struct ptm_config_diagnostics *from)
{
    if (from->count > 0) {
        if (grow(to, to->count + from->count) != 0)
            return -1;
        memcpy(to->items + to->count, from->items, from->count * sizeof *from->items);
        to->count += from->count;
    }
    to->out_of_memory |= from->out_of_memory;
    free(from->items);
    *from = (struct ptm_config_diagnostics){0};
    return 0;
}

int ptm_config_diagnostics_copy(struct ptm_config_diagnostics *to, const struct ptm_config_diagnostics *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const struct ptm_config_diagnostic *d = &from->items[i];
        size_t path_len = strlen(d->path), message_len = strlen(d->message), text_len = strlen(d->text);
        char *block = malloc(path_len + message_len + text_len + 3);
        if (block == NULL || grow(to, to->count + 1) != 0) {
            free(block);
            to->out_of_memory = 1;
            return -1;
        }
        char *p = block, *m = p + path_len + 1, *t = m + message_len + 1;
        memcpy(p, d->path, path_len + 1);
        memcpy(m, d->message, message_len + 1);
        memcpy(t, d->text, text_len + 1);
        to->items[to->count++] = (struct ptm_config_diagnostic){d->line, d->column, p, m, t};
    }
    return 0;
}

void ptm_config_diagnostics_fini(struct ptm_config_diagnostics *list)
{
    if (list == NULL)
        return;
    // Each entry is one block starting at its path.
    for (size_t i = 0; i < list->count; i++)
        free((void *)list->items[i].path);
    free(list->items);
    *list = (struct ptm_config_diagnostics){0};
}

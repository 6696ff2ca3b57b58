// SPDX-License-Identifier: Apache-2.0
//
// The OTLP JSON decoder: the protobuf JSON mapping of ExportProfilesService-
// Request (and ProfilesData, which has the same fields), one request per
// input or one per line (JSON Lines). It describes each OTLP message as a
// table of keys for the protobuf JSON reader (pbjson.c) and reads the values
// straight into the model's flat tables, with the conventions of the
// protobuf decoder (otlp.c): indices stay local to the request until
// ptm_batch_finish checks and rebases them, resources are pushed before their
// scopes, profiles after their samples, and each attribute list is one
// contiguous block of model->keyvalues (its element count is found by a
// look-ahead first) with nested values appended after the block.
//
// Keys are the lowerCamelCase JSON names or the original snake_case field
// names; unknown keys are skipped. JSON is keyed by name, so v1.9, v1.10 and
// v1.11 requests read alike; v1.8 differs in a few names ("sample", "line",
// "commentStrindices", "aggregationTemporality"), which are accepted and mark
// the batch as v1.8.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/json.h"
#include "decode/pbjson.h"
#include "util/error.h"

#define MAX_ANY_DEPTH 32
#define MARK_V18 1u // a key only OTLP v1.8 writes

#define FIELD(id, camel, snake) PBJSON_FIELD(id, camel, snake, 0)
#define FIELD_V18(id, camel, snake) PBJSON_FIELD(id, camel, snake, MARK_V18)

struct otlp_json_decoder {
    struct pbjson_decoder pb; // first, so that the readers' decoder is this one
    int any_depth;            // AnyValues being read inside each other
    uint32_t resource;        // index of the current resource in the model
    uint32_t scope;
};

static struct otlp_json_decoder *otlp(struct pbjson_decoder *d)
{
    return (struct otlp_json_decoder *)d;
}

static int read_indices(struct pbjson_decoder *d, const struct ptm_json_token *t,
                        struct ptm_range *out)
{
    return pbjson_read_number_list(d, t, PBJSON_LIST_INDICES, out);
}

// ---- attributes: KeyValue, AnyValue, ArrayValue, KeyValueList ----

static int read_any(struct pbjson_decoder *d, const struct ptm_json_token *t, struct ptm_any *out);
static int read_keyvalue_list(struct pbjson_decoder *d, const struct ptm_json_token *t,
                              struct ptm_range *out);

enum { KV_KEY, KV_VALUE, KV_KEY_STRINDEX };

static const struct pbjson_field keyvalue_fields[] = {
    FIELD(KV_KEY, "key", "key"),
    FIELD(KV_VALUE, "value", "value"),
    FIELD(KV_KEY_STRINDEX, "keyStrindex", "key_strindex"),
};

static int keyvalue_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                          void *out)
{
    struct ptm_keyvalue *kv = out;
    switch (id) {
    case KV_KEY: return pbjson_read_string(d, t, &kv->key);
    case KV_VALUE: return read_any(d, t, &kv->value);
    default: return pbjson_read_int32(d, t, &kv->key_strindex); // resolved by ptm_batch_finish
    }
}

static const struct pbjson_message keyvalue_message =
    PBJSON_MESSAGE(keyvalue_fields, keyvalue_field);

// An array of AnyValue (ArrayValue.values): one block of model->anys, with
// values nested in its elements appended after it.
static int read_any_list(struct pbjson_decoder *d, const struct ptm_json_token *t,
                         struct ptm_range *out)
{
    struct ptm_model *m = d->m;
    uint32_t n;
    int rc = pbjson_count_elements(d, t, &n);
    if (rc != 0)
        return rc;
    if (PTM_VEC_RESERVE(m->anys, n) != 0)
        return pbjson_nomem(d);
    *out = (struct ptm_range){m->anys.len, n};
    memset(m->anys.data + out->off, 0, (size_t)n * sizeof *m->anys.data);
    m->anys.len += n;
    for (uint32_t i = 0;; i++) {
        struct ptm_json_token e;
        struct ptm_any v;
        pbjson_path_set_index(d, i);
        rc = pbjson_next(d, &e);
        if (rc != 0 || e.kind == PTM_JSON_ARRAY_END)
            return rc;
        if (i >= n)
            return pbjson_fail(d, &e, "more elements than counted");
        rc = read_any(d, &e, &v);
        if (rc != 0)
            return rc;
        m->anys.data[out->off + i] = v;
    }
}

enum { LIST_VALUES_FIELD };

static const struct pbjson_field values_fields[] = {FIELD(LIST_VALUES_FIELD, "values", "values")};

static int array_value_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                             void *out)
{
    return read_any_list(d, t, out);
}

static int kvlist_value_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                              void *out)
{
    return read_keyvalue_list(d, t, out);
}

static const struct pbjson_message array_value_message =
    PBJSON_MESSAGE(values_fields, array_value_field);
static const struct pbjson_message kvlist_value_message =
    PBJSON_MESSAGE(values_fields, kvlist_value_field);

enum { ANY_STRING, ANY_BOOL, ANY_INT, ANY_DOUBLE, ANY_ARRAY, ANY_KVLIST, ANY_BYTES, ANY_STRINDEX };

static const struct pbjson_field any_fields[] = {
    FIELD(ANY_STRING, "stringValue", "string_value"),
    FIELD(ANY_BOOL, "boolValue", "bool_value"),
    FIELD(ANY_INT, "intValue", "int_value"),
    FIELD(ANY_DOUBLE, "doubleValue", "double_value"),
    FIELD(ANY_ARRAY, "arrayValue", "array_value"),
    FIELD(ANY_KVLIST, "kvlistValue", "kvlist_value"),
    FIELD(ANY_BYTES, "bytesValue", "bytes_value"),
    FIELD(ANY_STRINDEX, "stringValueStrindex", "string_value_strindex"),
};

static int any_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_any *v = out;
    if (v->kind != PTM_ANY_NONE)
        return pbjson_fail(d, t, "a second value in one AnyValue");
    switch (id) {
    case ANY_STRING: v->kind = PTM_ANY_STRING; return pbjson_read_string(d, t, &v->u.str);
    case ANY_BOOL: v->kind = PTM_ANY_BOOL; return pbjson_read_bool(d, t, &v->u.i);
    case ANY_INT: v->kind = PTM_ANY_INT; return pbjson_read_int64(d, t, &v->u.i);
    case ANY_DOUBLE: v->kind = PTM_ANY_DOUBLE; return pbjson_read_double(d, t, &v->u.d);
    case ANY_ARRAY:
        v->kind = PTM_ANY_ARRAY;
        v->u.list = (struct ptm_range){d->m->anys.len, 0};
        return pbjson_read_object(d, t, &array_value_message, &v->u.list);
    case ANY_KVLIST:
        v->kind = PTM_ANY_KVLIST;
        v->u.list = (struct ptm_range){d->m->keyvalues.len, 0};
        return pbjson_read_object(d, t, &kvlist_value_message, &v->u.list);
    case ANY_BYTES: v->kind = PTM_ANY_BYTES; return pbjson_read_bytes(d, t, 0, &v->u.str);
    default:
        v->kind = PTM_ANY_STRING;
        v->u.str = (struct ptm_str){NULL, 0}; // resolved by ptm_batch_finish
        return pbjson_read_int32(d, t, &v->strindex);
    }
}

static const struct pbjson_message any_message = PBJSON_MESSAGE(any_fields, any_field);

static int read_any(struct pbjson_decoder *d, const struct ptm_json_token *t, struct ptm_any *out)
{
    memset(out, 0, sizeof *out);
    out->strindex = -1;
    if (otlp(d)->any_depth >= MAX_ANY_DEPTH)
        return pbjson_fail(d, t, "attribute values nested deeper than %d levels", MAX_ANY_DEPTH);
    otlp(d)->any_depth++;
    int rc = pbjson_read_object(d, t, &any_message, out);
    otlp(d)->any_depth--;
    return rc;
}

// A list of KeyValue (resource, scope, kvlist): one block of
// model->keyvalues, with values nested in its elements appended after it.
static int read_keyvalue_list(struct pbjson_decoder *d, const struct ptm_json_token *t,
                              struct ptm_range *out)
{
    struct ptm_model *m = d->m;
    uint32_t n;
    int rc = pbjson_count_elements(d, t, &n);
    if (rc != 0)
        return rc;
    if (PTM_VEC_RESERVE(m->keyvalues, n) != 0)
        return pbjson_nomem(d);
    *out = (struct ptm_range){m->keyvalues.len, n};
    memset(m->keyvalues.data + out->off, 0, (size_t)n * sizeof *m->keyvalues.data);
    m->keyvalues.len += n;
    for (uint32_t i = 0;; i++) {
        struct ptm_json_token e;
        struct ptm_keyvalue kv = {.key = {"", 0}, .key_strindex = -1};
        pbjson_path_set_index(d, i);
        rc = pbjson_next(d, &e);
        if (rc != 0 || e.kind == PTM_JSON_ARRAY_END)
            return rc;
        if (i >= n)
            return pbjson_fail(d, &e, "more elements than counted");
        rc = pbjson_read_object(d, &e, &keyvalue_message, &kv);
        if (rc != 0)
            return rc;
        m->keyvalues.data[out->off + i] = kv;
    }
}

// ---- resource, scope, profile, sample ----

enum { RES_ATTRIBUTES, RES_DROPPED };

static const struct pbjson_field resource_fields[] = {
    FIELD(RES_ATTRIBUTES, "attributes", "attributes"),
    FIELD(RES_DROPPED, "droppedAttributesCount", "dropped_attributes_count"),
};

static int resource_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                          void *out)
{
    struct ptm_resource *res = out;
    if (id == RES_ATTRIBUTES)
        return read_keyvalue_list(d, t, &res->attributes);
    return pbjson_read_uint32(d, t, &res->dropped_attributes_count);
}

static const struct pbjson_message resource_message =
    PBJSON_MESSAGE(resource_fields, resource_field);

enum { SC_NAME, SC_VERSION, SC_ATTRIBUTES, SC_DROPPED };

static const struct pbjson_field scope_fields[] = {
    FIELD(SC_NAME, "name", "name"),
    FIELD(SC_VERSION, "version", "version"),
    FIELD(SC_ATTRIBUTES, "attributes", "attributes"),
    FIELD(SC_DROPPED, "droppedAttributesCount", "dropped_attributes_count"),
};

static int scope_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_scope *scope = out;
    switch (id) {
    case SC_NAME: return pbjson_read_string(d, t, &scope->name);
    case SC_VERSION: return pbjson_read_string(d, t, &scope->version);
    case SC_ATTRIBUTES: return read_keyvalue_list(d, t, &scope->attributes);
    default: return pbjson_read_uint32(d, t, &scope->dropped_attributes_count);
    }
}

static const struct pbjson_message scope_message = PBJSON_MESSAGE(scope_fields, scope_field);

enum { VT_TYPE, VT_UNIT, VT_TEMPORALITY };

static const struct pbjson_field value_type_fields[] = {
    FIELD(VT_TYPE, "typeStrindex", "type_strindex"),
    FIELD(VT_UNIT, "unitStrindex", "unit_strindex"),
    FIELD_V18(VT_TEMPORALITY, "aggregationTemporality", "aggregation_temporality"),
};

static int value_type_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                            void *out)
{
    struct ptm_value_type *vt = out;
    switch (id) {
    case VT_TYPE: return pbjson_read_int32(d, t, &vt->type);
    case VT_UNIT: return pbjson_read_int32(d, t, &vt->unit);
    default: // an enum the model does not keep: a number, or its name as a string
        if (t->kind != PTM_JSON_NUMBER && t->kind != PTM_JSON_STRING)
            return pbjson_fail(d, t, "expected an enum value");
        return 0;
    }
}

static const struct pbjson_message value_type_message =
    PBJSON_MESSAGE(value_type_fields, value_type_field);

enum { SA_STACK, SA_ATTRIBUTES, SA_LINK, SA_VALUES, SA_TIMESTAMPS };

static const struct pbjson_field sample_fields[] = {
    FIELD(SA_STACK, "stackIndex", "stack_index"),
    FIELD(SA_ATTRIBUTES, "attributeIndices", "attribute_indices"),
    FIELD(SA_LINK, "linkIndex", "link_index"),
    FIELD(SA_VALUES, "values", "values"),
    FIELD(SA_TIMESTAMPS, "timestampsUnixNano", "timestamps_unix_nano"),
};

static int sample_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_sample *s = out;
    switch (id) {
    case SA_STACK: return pbjson_read_int32(d, t, &s->stack);
    case SA_ATTRIBUTES: return read_indices(d, t, &s->attributes);
    case SA_LINK: return pbjson_read_int32(d, t, &s->link);
    case SA_VALUES: return pbjson_read_number_list(d, t, PBJSON_LIST_VALUES, &s->values);
    default: return pbjson_read_number_list(d, t, PBJSON_LIST_TIMESTAMPS, &s->timestamps);
    }
}

static const struct pbjson_message sample_message = PBJSON_MESSAGE(sample_fields, sample_field);

// One sample of the profile ctx, appended to model->samples.
static int read_sample(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)
{
    struct ptm_profile *p = ctx;
    struct ptm_sample s;
    memset(&s, 0, sizeof s);
    int rc = pbjson_read_object(d, t, &sample_message, &s);
    if (rc != 0)
        return rc;
    struct ptm_sample *slot = PTM_VEC_PUSH(d->m->samples);
    if (slot == NULL)
        return pbjson_nomem(d);
    *slot = s;
    p->samples.len++;
    return 0;
}

enum {
    PR_SAMPLE_TYPE, PR_SAMPLES, PR_TIME, PR_DURATION, PR_PERIOD_TYPE, PR_PERIOD, PR_PROFILE_ID,
    PR_DROPPED, PR_PAYLOAD_FORMAT, PR_PAYLOAD, PR_ATTRIBUTES, PR_COMMENTS,
};

static const struct pbjson_field profile_fields[] = {
    FIELD(PR_SAMPLE_TYPE, "sampleType", "sample_type"),
    FIELD(PR_SAMPLES, "samples", "samples"),
    FIELD_V18(PR_SAMPLES, "sample", "sample"),
    FIELD(PR_TIME, "timeUnixNano", "time_unix_nano"),
    FIELD(PR_DURATION, "durationNano", "duration_nano"),
    FIELD(PR_PERIOD_TYPE, "periodType", "period_type"),
    FIELD(PR_PERIOD, "period", "period"),
    FIELD(PR_PROFILE_ID, "profileId", "profile_id"),
    FIELD(PR_DROPPED, "droppedAttributesCount", "dropped_attributes_count"),
    FIELD(PR_PAYLOAD_FORMAT, "originalPayloadFormat", "original_payload_format"),
    FIELD(PR_PAYLOAD, "originalPayload", "original_payload"),
    FIELD(PR_ATTRIBUTES, "attributeIndices", "attribute_indices"),
    FIELD_V18(PR_COMMENTS, "commentStrindices", "comment_strindices"),
};

static int profile_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                         void *out)
{
    struct ptm_profile *p = out;
    switch (id) {
    case PR_SAMPLE_TYPE: return pbjson_read_object(d, t, &value_type_message, &p->sample_type);
    case PR_SAMPLES: return pbjson_read_array(d, t, read_sample, p);
    case PR_TIME: return pbjson_read_uint64(d, t, &p->time_unix_nano);
    case PR_DURATION: return pbjson_read_uint64(d, t, &p->duration_nano);
    case PR_PERIOD_TYPE: return pbjson_read_object(d, t, &value_type_message, &p->period_type);
    case PR_PERIOD: return pbjson_read_int64(d, t, &p->period);
    case PR_PROFILE_ID: return pbjson_read_bytes(d, t, 16, &p->profile_id);
    case PR_DROPPED: return pbjson_read_uint32(d, t, &p->dropped_attributes_count);
    case PR_PAYLOAD_FORMAT: return pbjson_read_string(d, t, &p->original_payload_format);
    case PR_PAYLOAD: // the model does not keep the payload: only check it
        return pbjson_check_base64(d, t);
    case PR_ATTRIBUTES: return read_indices(d, t, &p->attributes);
    default: return read_indices(d, t, &p->comments);
    }
}

static const struct pbjson_message profile_message = PBJSON_MESSAGE(profile_fields, profile_field);

// A profile; its samples are appended while it is read, the profile last.
static int read_profile(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)
{
    struct ptm_model *m = d->m;
    struct ptm_profile p;
    memset(&p, 0, sizeof p);
    p.batch = m->batches.len - 1;
    p.resource = otlp(d)->resource;
    p.scope = otlp(d)->scope;
    p.value_column = -1;
    p.samples.off = m->samples.len;
    int rc = pbjson_read_object(d, t, &profile_message, &p);
    if (rc != 0)
        return rc;
    struct ptm_profile *slot = PTM_VEC_PUSH(m->profiles);
    if (slot == NULL)
        return pbjson_nomem(d);
    *slot = p;
    return 0;
}

enum { SP_SCOPE, SP_PROFILES, SP_SCHEMA_URL };

static const struct pbjson_field scope_profiles_fields[] = {
    FIELD(SP_SCOPE, "scope", "scope"),
    FIELD(SP_PROFILES, "profiles", "profiles"),
    FIELD(SP_SCHEMA_URL, "schemaUrl", "schema_url"),
};

static int scope_profiles_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                                void *out)
{
    struct ptm_scope *scope = out;
    switch (id) {
    case SP_SCOPE: return pbjson_read_object(d, t, &scope_message, scope);
    case SP_PROFILES: return pbjson_read_array(d, t, read_profile, NULL);
    default: return pbjson_read_string(d, t, &scope->schema_url);
    }
}

static const struct pbjson_message scope_profiles_message =
    PBJSON_MESSAGE(scope_profiles_fields, scope_profiles_field);

// A ScopeProfiles: the scope's slot is pushed before its profiles.
static int read_scope_profiles(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)
{
    struct ptm_model *m = d->m;
    struct ptm_scope *slot = PTM_VEC_PUSH(m->scopes);
    if (slot == NULL)
        return pbjson_nomem(d);
    memset(slot, 0, sizeof *slot);
    otlp(d)->scope = m->scopes.len - 1;
    struct ptm_scope scope;
    memset(&scope, 0, sizeof scope);
    scope.resource = otlp(d)->resource;
    int rc = pbjson_read_object(d, t, &scope_profiles_message, &scope);
    m->scopes.data[otlp(d)->scope] = scope;
    return rc;
}

enum { RP_RESOURCE, RP_SCOPE_PROFILES, RP_SCHEMA_URL };

static const struct pbjson_field resource_profiles_fields[] = {
    FIELD(RP_RESOURCE, "resource", "resource"),
    FIELD(RP_SCOPE_PROFILES, "scopeProfiles", "scope_profiles"),
    FIELD(RP_SCHEMA_URL, "schemaUrl", "schema_url"),
};

static int resource_profiles_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                                   void *out)
{
    struct ptm_resource *res = out;
    switch (id) {
    case RP_RESOURCE: return pbjson_read_object(d, t, &resource_message, res);
    case RP_SCOPE_PROFILES: return pbjson_read_array(d, t, read_scope_profiles, NULL);
    default: return pbjson_read_string(d, t, &res->schema_url);
    }
}

static const struct pbjson_message resource_profiles_message =
    PBJSON_MESSAGE(resource_profiles_fields, resource_profiles_field);

// A ResourceProfiles: the resource's slot is pushed before its scopes.
static int read_resource_profiles(struct pbjson_decoder *d, const struct ptm_json_token *t,
                                  void *ctx)
{
    struct ptm_model *m = d->m;
    struct ptm_resource *slot = PTM_VEC_PUSH(m->resources);
    if (slot == NULL)
        return pbjson_nomem(d);
    memset(slot, 0, sizeof *slot);
    otlp(d)->resource = m->resources.len - 1;
    struct ptm_resource res;
    memset(&res, 0, sizeof res);
    int rc = pbjson_read_object(d, t, &resource_profiles_message, &res);
    m->resources.data[otlp(d)->resource] = res;
    return rc;
}

// ---- dictionary ----

enum { MA_START, MA_LIMIT, MA_OFFSET, MA_FILENAME, MA_ATTRIBUTES };

static const struct pbjson_field mapping_fields[] = {
    FIELD(MA_START, "memoryStart", "memory_start"),
    FIELD(MA_LIMIT, "memoryLimit", "memory_limit"),
    FIELD(MA_OFFSET, "fileOffset", "file_offset"),
    FIELD(MA_FILENAME, "filenameStrindex", "filename_strindex"),
    FIELD(MA_ATTRIBUTES, "attributeIndices", "attribute_indices"),
};

static int mapping_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                         void *out)
{
    struct ptm_mapping *mp = out;
    switch (id) {
    case MA_START: return pbjson_read_uint64(d, t, &mp->memory_start);
    case MA_LIMIT: return pbjson_read_uint64(d, t, &mp->memory_limit);
    case MA_OFFSET: return pbjson_read_uint64(d, t, &mp->file_offset);
    case MA_FILENAME: return pbjson_read_int32(d, t, &mp->filename);
    default: return read_indices(d, t, &mp->attributes);
    }
}

enum { LI_FUNCTION, LI_LINE, LI_COLUMN };

static const struct pbjson_field line_fields[] = {
    FIELD(LI_FUNCTION, "functionIndex", "function_index"),
    FIELD(LI_LINE, "line", "line"),
    FIELD(LI_COLUMN, "column", "column"),
};

static int line_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_line *line = out;
    switch (id) {
    case LI_FUNCTION: return pbjson_read_int32(d, t, &line->function);
    case LI_LINE: return pbjson_read_int64(d, t, &line->line);
    default: return pbjson_read_int64(d, t, &line->column);
    }
}

static const struct pbjson_message line_message = PBJSON_MESSAGE(line_fields, line_field);

// One line of the location ctx, appended to model->lines.
static int read_line(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)
{
    struct ptm_location *loc = ctx;
    struct ptm_line line;
    memset(&line, 0, sizeof line);
    int rc = pbjson_read_object(d, t, &line_message, &line);
    if (rc != 0)
        return rc;
    struct ptm_line *slot = PTM_VEC_PUSH(d->m->lines);
    if (slot == NULL)
        return pbjson_nomem(d);
    *slot = line;
    loc->lines.len++;
    return 0;
}

enum { LO_MAPPING, LO_ADDRESS, LO_LINES, LO_ATTRIBUTES };

static const struct pbjson_field location_fields[] = {
    FIELD(LO_MAPPING, "mappingIndex", "mapping_index"),
    FIELD(LO_ADDRESS, "address", "address"),
    FIELD(LO_LINES, "lines", "lines"),
    FIELD_V18(LO_LINES, "line", "line"),
    FIELD(LO_ATTRIBUTES, "attributeIndices", "attribute_indices"),
};

static int location_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                          void *out)
{
    struct ptm_location *loc = out;
    switch (id) {
    case LO_MAPPING: return pbjson_read_int32(d, t, &loc->mapping);
    case LO_ADDRESS: return pbjson_read_uint64(d, t, &loc->address);
    case LO_LINES:
        loc->lines = (struct ptm_range){d->m->lines.len, 0};
        return pbjson_read_array(d, t, read_line, loc);
    default: return read_indices(d, t, &loc->attributes);
    }
}

enum { FN_NAME, FN_SYSTEM_NAME, FN_FILENAME, FN_START_LINE };

static const struct pbjson_field function_fields[] = {
    FIELD(FN_NAME, "nameStrindex", "name_strindex"),
    FIELD(FN_SYSTEM_NAME, "systemNameStrindex", "system_name_strindex"),
    FIELD(FN_FILENAME, "filenameStrindex", "filename_strindex"),
    FIELD(FN_START_LINE, "startLine", "start_line"),
};

static int function_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                          void *out)
{
    struct ptm_function *fn = out;
    switch (id) {
    case FN_NAME: return pbjson_read_int32(d, t, &fn->name);
    case FN_SYSTEM_NAME: return pbjson_read_int32(d, t, &fn->system_name);
    case FN_FILENAME: return pbjson_read_int32(d, t, &fn->filename);
    default: return pbjson_read_int64(d, t, &fn->start_line);
    }
}

enum { LK_TRACE, LK_SPAN };

static const struct pbjson_field link_fields[] = {
    FIELD(LK_TRACE, "traceId", "trace_id"),
    FIELD(LK_SPAN, "spanId", "span_id"),
};

static int link_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_link *link = out;
    if (id == LK_TRACE)
        return pbjson_read_bytes(d, t, 16, &link->trace_id);
    return pbjson_read_bytes(d, t, 8, &link->span_id);
}

enum { AT_KEY, AT_VALUE, AT_UNIT };

static const struct pbjson_field attribute_fields[] = {
    FIELD(AT_KEY, "keyStrindex", "key_strindex"),
    FIELD(AT_VALUE, "value", "value"),
    FIELD(AT_UNIT, "unitStrindex", "unit_strindex"),
};

static int attribute_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                           void *out)
{
    struct ptm_attribute *a = out;
    switch (id) {
    case AT_KEY: return pbjson_read_int32(d, t, &a->key);
    case AT_VALUE: return read_any(d, t, &a->value);
    default: return pbjson_read_int32(d, t, &a->unit);
    }
}

enum { ST_LOCATIONS };

static const struct pbjson_field stack_fields[] = {
    FIELD(ST_LOCATIONS, "locationIndices", "location_indices"),
};

static int stack_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t, void *out)
{
    struct ptm_stack *s = out;
    return read_indices(d, t, &s->locations);
}

// Define fn, which reads one dictionary entry and appends it to model->table.
#define DEFINE_ENTRY_READER(fn, type, table, fields, reader)                              \
    static int fn(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)      \
    {                                                                                     \
        static const struct pbjson_message message = PBJSON_MESSAGE(fields, reader);              \
        type entry;                                                                       \
        memset(&entry, 0, sizeof entry);                                                  \
        int rc = pbjson_read_object(d, t, &message, &entry);                                     \
        if (rc != 0)                                                                      \
            return rc;                                                                    \
        type *slot = PTM_VEC_PUSH(d->m->table);                                           \
        if (slot == NULL)                                                                 \
            return pbjson_nomem(d);                                                              \
        *slot = entry;                                                                    \
        return 0;                                                                         \
    }

DEFINE_ENTRY_READER(read_mapping, struct ptm_mapping, mappings, mapping_fields, mapping_field)
DEFINE_ENTRY_READER(read_location, struct ptm_location, locations, location_fields, location_field)
DEFINE_ENTRY_READER(read_function, struct ptm_function, functions, function_fields, function_field)
DEFINE_ENTRY_READER(read_link, struct ptm_link, links, link_fields, link_field)
DEFINE_ENTRY_READER(read_attribute, struct ptm_attribute, attributes, attribute_fields,
                    attribute_field)
DEFINE_ENTRY_READER(read_stack, struct ptm_stack, stacks, stack_fields, stack_field)

static int read_string_entry(struct pbjson_decoder *d, const struct ptm_json_token *t, void *ctx)
{
    struct ptm_str s;
    int rc = pbjson_read_string(d, t, &s);
    if (rc != 0)
        return rc;
    struct ptm_str *slot = PTM_VEC_PUSH(d->m->strings);
    if (slot == NULL)
        return pbjson_nomem(d);
    *slot = s;
    return 0;
}

enum { DI_MAPPINGS, DI_LOCATIONS, DI_FUNCTIONS, DI_LINKS, DI_STRINGS, DI_ATTRIBUTES, DI_STACKS };

static const struct pbjson_field dictionary_fields[] = {
    FIELD(DI_MAPPINGS, "mappingTable", "mapping_table"),
    FIELD(DI_LOCATIONS, "locationTable", "location_table"),
    FIELD(DI_FUNCTIONS, "functionTable", "function_table"),
    FIELD(DI_LINKS, "linkTable", "link_table"),
    FIELD(DI_STRINGS, "stringTable", "string_table"),
    FIELD(DI_ATTRIBUTES, "attributeTable", "attribute_table"),
    FIELD(DI_STACKS, "stackTable", "stack_table"),
};

static int dictionary_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                            void *out)
{
    static const pbjson_element_reader readers[] = {
        [DI_MAPPINGS] = read_mapping,     [DI_LOCATIONS] = read_location,
        [DI_FUNCTIONS] = read_function,   [DI_LINKS] = read_link,
        [DI_STRINGS] = read_string_entry, [DI_ATTRIBUTES] = read_attribute,
        [DI_STACKS] = read_stack,
    };
    return pbjson_read_array(d, t, readers[id], NULL);
}

static const struct pbjson_message dictionary_message =
    PBJSON_MESSAGE(dictionary_fields, dictionary_field);

// ---- requests ----

enum { RQ_RESOURCE_PROFILES, RQ_DICTIONARY };

static const struct pbjson_field request_fields[] = {
    FIELD(RQ_RESOURCE_PROFILES, "resourceProfiles", "resource_profiles"),
    FIELD(RQ_DICTIONARY, "dictionary", "dictionary"),
};

static int request_field(struct pbjson_decoder *d, int id, const struct ptm_json_token *t,
                         void *out)
{
    if (id == RQ_RESOURCE_PROFILES)
        return pbjson_read_array(d, t, read_resource_profiles, NULL);
    return pbjson_read_object(d, t, &dictionary_message, NULL);
}

static const struct pbjson_message request_message = PBJSON_MESSAGE(request_fields, request_field);

// One request: a JSON object. When `whole`, nothing but white space may
// follow it in its range.
static int read_request(struct pbjson_decoder *d, bool whole)
{
    struct ptm_json_token t;
    int rc = pbjson_next(d, &t);
    if (rc == 0)
        rc = pbjson_read_object(d, &t, &request_message, NULL);
    if (rc == 0 && whole)
        rc = pbjson_next(d, &t); // the end, or an error naming what follows
    return rc;
}

// Where one request's JSON is: data[begin, end), starting on line `line`.
struct json_range {
    const uint8_t *data;
    size_t begin, end;
    uint32_t line;
    uint32_t index; // the batch's position in its input
    int max_depth;
    bool whole;     // the request must fill the range
};

// Where a request's JSON ended, or where its error was found.
struct json_end {
    size_t at;
    bool read; // the JSON was read to its end (an error, if any, came later)
};

// Decode one request as a batch. A batch that fails outright is rolled
// back; one whose profiles were only partly rejected keeps the rest.
static int decode_batch(struct ptm_model *model, const struct json_range *in, struct json_end *end,
                        struct ptm_error *err)
{
    struct ptm_model_mark mark;
    ptm_model_mark(model, &mark);
    uint32_t rejected = model->rejected_profiles;
    *end = (struct json_end){in->end, false};
    if (ptm_batch_begin(model, PTM_FORMAT_OTLP_JSON, 10, in->index) == NULL)
        return ptm_error_set(err, PTM_ENOMEM, "out of memory");
    uint32_t batch = model->batches.len - 1;
    struct otlp_json_decoder d = {.pb = {.m = model, .err = err}};
    ptm_json_init(&d.pb.j, in->data, in->begin, in->end, in->line, in->max_depth, model->arena,
                  err);
    int rc = read_request(&d.pb, in->whole);
    if (rc == 0)
        *end = (struct json_end){(size_t)(d.pb.j.p - in->data), true};
    else if (d.pb.j.error_at != NULL)
        end->at = (size_t)(d.pb.j.error_at - in->data);
    if (rc == 0) {
        bool v18 = d.pb.marks & MARK_V18;
        struct ptm_batch *b = &model->batches.data[batch];
        b->otlp_version = v18 ? 8 : 10;
        b->otlp_candidates = v18 ? 1 : 6; // v1.9 to v1.11 JSON read alike
        rc = ptm_batch_finish(model, err);
    }
    bool partial = rc == PTM_EFORMAT && model->rejected_profiles > rejected &&
                   model->batches.data[batch].profiles.len > 0;
    if (rc != 0 && !partial) {
        ptm_model_rollback(model, &mark);
        model->rejected_profiles = rejected;
    }
    return rc;
}

static bool is_blank(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return false;
    }
    return true;
}

// The end of the line starting at `at` (its '\n', or the end).
static size_t line_end(const uint8_t *data, size_t at, size_t end)
{
    const uint8_t *nl = memchr(data + at, '\n', end - at);
    return nl != NULL ? (size_t)(nl - data) : end;
}

// Keep the first error of JSON Lines, prefixed with its line number.
static int keep_first_error(int result, int rc, const struct ptm_error *e, uint32_t line,
                            struct ptm_error *err)
{
    if (rc == 0 || result != 0)
        return result;
    if (err != NULL) {
        *err = *e;
        ptm_error_prefix(err, "line %" PRIu32, line);
    }
    return rc;
}

// Every non-blank line is a request. A bad line is reported and the others
// still decode.
static int decode_lines(struct ptm_model *model, const struct json_range *in, struct ptm_error *err)
{
    int result = 0;
    uint32_t line = in->line;
    for (size_t at = in->begin; at < in->end; line++) {
        size_t stop = line_end(in->data, at, in->end);
        if (!is_blank(in->data + at, in->data + stop)) {
            struct json_range one = {in->data, at, stop, line, line - 1, in->max_depth, true};
            struct json_end end;
            struct ptm_error e;
            int rc = decode_batch(model, &one, &end, &e);
            result = keep_first_error(result, rc, &e, line, err);
            if (rc == PTM_ENOMEM)
                return rc;
        }
        at = stop + 1;
    }
    return result;
}

// The first non-blank byte at or after `at`.
static size_t skip_blank(const uint8_t *data, size_t at, size_t end)
{
    while (at < end && is_blank(data + at, data + at + 1))
        at++;
    return at;
}

// One document that has been decoded as the batch since mark, and is
// followed by more than white space: undo it and say so.
static int trailing_data(struct ptm_model *model, const struct ptm_model_mark *mark,
                         uint32_t rejected, const struct json_range *in, size_t at,
                         struct ptm_error *err)
{
    ptm_model_rollback(model, mark);
    model->rejected_profiles = rejected;
    struct ptm_json j;
    ptm_json_init(&j, in->data, in->begin, in->end, in->line, in->max_depth, NULL, err);
    return ptm_json_error(&j, in->data + at, "unexpected data after the JSON document");
}

// The input is one document, which may span lines, or JSON Lines: the first
// document is decoded, and when it ends (or breaks) on its first line and
// more follows, every line is decoded as a request of its own.
int ptm_decode_otlp_json(struct ptm_model *model, const uint8_t *data, size_t len, int max_depth,
                         struct ptm_error *err)
{
    size_t begin = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0; // byte order mark
    struct json_range in = {data, begin, len, 1, 0, max_depth, false};
    struct ptm_model_mark mark;
    ptm_model_mark(model, &mark);
    uint32_t rejected = model->rejected_profiles;
    struct ptm_error first;
    struct json_end end;
    int rc = decode_batch(model, &in, &end, &first);
    size_t first_end = line_end(data, skip_blank(data, begin, len), len);
    if (rc != PTM_ENOMEM && end.at <= first_end && !is_blank(data + first_end, data + len)) {
        ptm_model_rollback(model, &mark); // decoded again, as line 1 of JSON Lines
        model->rejected_profiles = rejected;
        in.whole = true;
        return decode_lines(model, &in, err);
    }
    if (rc != 0 && err != NULL)
        *err = first;
    if (end.read && !is_blank(data + end.at, data + len))
        return trailing_data(model, &mark, rejected, &in, skip_blank(data, end.at, len), err);
    return rc;
}

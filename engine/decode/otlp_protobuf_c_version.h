// SPDX-License-Identifier: Apache-2.0
//
// The version-specific half of the protobuf-c OTLP decoder: turning the
// ProfilesData tree that one wire version's generated code unpacked into the
// model. otlp_protobuf_c.c includes this file once per version; the macros
// below name that version's generated types, so the logic exists once while
// the compiler still checks every field access against the real structs.
//
//   PBC(Name)         the generated struct type of message Name
//   PBC_FN(name)      name made unique for the version (name_v18, ...)
//   PBC_UNPACK        the generated ProfilesData unpack function
//   PBC_SAMPLES       the name of Profile's samples field (v1.8: sample)
//   PBC_LINES         the name of Location's lines field (v1.8: line)
//   PBC_PROFILE_ATTRIBUTES  Profile.attribute_indices' number (v1.8: 12)
//   PBC_HAS_COMMENTS  1 when Profile has comment_strindices (v1.8)
//
// Several lists of a request share the model's pools (indices, keyvalues),
// and otlp.c appends to them in the order the bytes arrive, which producers
// do not all keep to field-number order. So where a message has more than
// one field feeding a shared pool, its bytes are walked again, and the
// unpacked entries converted in the order their fields arrived: both
// decoders then lay the model out identically. The shared helpers (pbc_*)
// live in otlp_protobuf_c.c.

#define PBC_N(field) PBC_CAT(n_, field)

static int PBC_FN(convert_sample)(struct pbc_converter *c, const PBC(Sample) *in)
{
    struct ptm_sample s = {.stack = in->stack_index, .link = in->link_index};
    if (pbc_append_indices(c, in->attribute_indices, in->n_attribute_indices, &s.attributes) ||
        pbc_append_values(c, in->values, in->n_values, &s.values) ||
        pbc_append_timestamps(c, in->timestamps_unix_nano, in->n_timestamps_unix_nano,
                              &s.timestamps))
        return pbc_nomem(c);
    struct ptm_sample *slot = PTM_VEC_PUSH(c->m->samples);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = s;
    return 0;
}

static void PBC_FN(convert_value_type)(const PBC(ValueType) *in, struct ptm_value_type *out)
{
    if (in != NULL)
        *out = (struct ptm_value_type){in->type_strindex, in->unit_strindex};
}

static void PBC_FN(convert_profile_fields)(const PBC(Profile) *in, struct ptm_profile *p)
{
    PBC_FN(convert_value_type)(in->sample_type, &p->sample_type);
    PBC_FN(convert_value_type)(in->period_type, &p->period_type);
    p->period = in->period;
    p->time_unix_nano = in->time_unix_nano;
    p->duration_nano = in->duration_nano;
    p->profile_id = pbc_bytes(in->profile_id);
    p->dropped_attributes_count = in->dropped_attributes_count;
    p->original_payload_format = pbc_string(in->original_payload_format);
}

// The profile's own index lists (attribute_indices, v1.8's
// comment_strindices), each appended whole at its first occurrence.
static int PBC_FN(convert_profile_list)(struct pbc_converter *c, const PBC(Profile) *in,
                                        uint32_t field, struct ptm_profile *p, unsigned *done)
{
    if (field == PBC_PROFILE_ATTRIBUTES && !(*done & 1u)) {
        *done |= 1u;
        if (pbc_append_indices(c, in->attribute_indices, in->n_attribute_indices, &p->attributes))
            return pbc_nomem(c);
    }
#if PBC_HAS_COMMENTS
    if (field == 7 && !(*done & 2u)) {
        *done |= 2u;
        if (pbc_append_indices(c, in->comment_strindices, in->n_comment_strindices, &p->comments))
            return pbc_nomem(c);
    }
#endif
    return 0;
}

// Samples and the profile's index lists in wire order; the profile itself
// is pushed last.
static int PBC_FN(convert_profile)(struct pbc_converter *c, const PBC(Profile) *in,
                                   struct pb_reader bytes, uint32_t resource, uint32_t scope)
{
    struct ptm_model *m = c->m;
    struct ptm_profile p;
    memset(&p, 0, sizeof p);
    p.batch = m->batches.len - 1;
    p.resource = resource;
    p.scope = scope;
    p.value_column = -1;
    p.samples.off = m->samples.len;
    PBC_FN(convert_profile_fields)(in, &p);
    unsigned lists_done = 0;
    uint32_t field;
    struct pb_reader body;
    int rc = 0;
    while (rc == 0 && pbc_next_field(&bytes, &field, &body)) {
        if (field == 2 && p.samples.len < in->PBC_N(PBC_SAMPLES)) {
            rc = PBC_FN(convert_sample)(c, in->PBC_SAMPLES[p.samples.len]);
            if (rc == 0)
                p.samples.len++;
        } else {
            rc = PBC_FN(convert_profile_list)(c, in, field, &p, &lists_done);
        }
    }
    if (rc != 0)
        return rc;
    struct ptm_profile *slot = PTM_VEC_PUSH(m->profiles);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = p;
    return 0;
}

static int PBC_FN(convert_scope_profiles)(struct pbc_converter *c, const PBC(ScopeProfiles) *in,
                                          struct pb_reader bytes, uint32_t resource)
{
    struct ptm_model *m = c->m;
    struct ptm_scope *slot = PTM_VEC_PUSH(m->scopes);
    if (slot == NULL)
        return pbc_nomem(c);
    memset(slot, 0, sizeof *slot);
    uint32_t index = m->scopes.len - 1;
    struct ptm_scope scope = {.resource = resource, .schema_url = pbc_string(in->schema_url)};
    int rc = pbc_convert_scope(c, in->scope, &scope);
    size_t next_profile = 0;
    uint32_t field;
    struct pb_reader body;
    while (rc == 0 && pbc_next_field(&bytes, &field, &body)) {
        if (field == 2 && next_profile < in->n_profiles)
            rc = PBC_FN(convert_profile)(c, in->profiles[next_profile++], body, resource, index);
    }
    m->scopes.data[index] = scope;
    return rc;
}

// The resource's attributes and the scopes' go to the same pool, in the
// order the resource and the scope_profiles arrived.
static int PBC_FN(convert_resource_profiles)(struct pbc_converter *c,
                                             const PBC(ResourceProfiles) *in, struct pb_reader bytes)
{
    struct ptm_model *m = c->m;
    struct ptm_resource *slot = PTM_VEC_PUSH(m->resources);
    if (slot == NULL)
        return pbc_nomem(c);
    memset(slot, 0, sizeof *slot);
    uint32_t index = m->resources.len - 1;
    struct ptm_resource res = {.schema_url = pbc_string(in->schema_url)};
    bool resource_done = false;
    size_t next_scope = 0;
    uint32_t field;
    struct pb_reader body;
    int rc = 0;
    while (rc == 0 && pbc_next_field(&bytes, &field, &body)) {
        if (field == 1 && !resource_done) {
            resource_done = true;
            rc = pbc_convert_resource(c, in->resource, &res);
        } else if (field == 2 && next_scope < in->n_scope_profiles) {
            rc = PBC_FN(convert_scope_profiles)(c, in->scope_profiles[next_scope++], body, index);
        }
    }
    m->resources.data[index] = res;
    return rc;
}

// ---- dictionary ----

static int PBC_FN(convert_mapping)(struct pbc_converter *c, const PBC(Mapping) *e)
{
    struct ptm_mapping mp = {
        .memory_start = e->memory_start,
        .memory_limit = e->memory_limit,
        .file_offset = e->file_offset,
        .filename = e->filename_strindex,
    };
    if (pbc_append_indices(c, e->attribute_indices, e->n_attribute_indices, &mp.attributes))
        return pbc_nomem(c);
    struct ptm_mapping *slot = PTM_VEC_PUSH(c->m->mappings);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = mp;
    return 0;
}

static int PBC_FN(convert_location)(struct pbc_converter *c, const PBC(Location) *e)
{
    struct ptm_model *m = c->m;
    struct ptm_location loc = {.mapping = e->mapping_index, .address = e->address};
    loc.lines.off = m->lines.len;
    for (size_t l = 0; l < e->PBC_N(PBC_LINES); l++) {
        const PBC(Line) *in = e->PBC_LINES[l];
        struct ptm_line *line = PTM_VEC_PUSH(m->lines);
        if (line == NULL)
            return pbc_nomem(c);
        *line = (struct ptm_line){in->function_index, in->line, in->column};
        loc.lines.len++;
    }
    if (pbc_append_indices(c, e->attribute_indices, e->n_attribute_indices, &loc.attributes))
        return pbc_nomem(c);
    struct ptm_location *slot = PTM_VEC_PUSH(m->locations);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = loc;
    return 0;
}

static int PBC_FN(convert_function)(struct pbc_converter *c, const PBC(Function) *e)
{
    struct ptm_function *fn = PTM_VEC_PUSH(c->m->functions);
    if (fn == NULL)
        return pbc_nomem(c);
    *fn = (struct ptm_function){e->name_strindex, e->system_name_strindex, e->filename_strindex,
                                e->start_line};
    return 0;
}

static int PBC_FN(convert_link)(struct pbc_converter *c, const PBC(Link) *e)
{
    struct ptm_link *link = PTM_VEC_PUSH(c->m->links);
    if (link == NULL)
        return pbc_nomem(c);
    link->trace_id = pbc_bytes(e->trace_id);
    link->span_id = pbc_bytes(e->span_id);
    return 0;
}

static int PBC_FN(convert_string)(struct pbc_converter *c, const char *e)
{
    struct ptm_str *s = PTM_VEC_PUSH(c->m->strings);
    if (s == NULL)
        return pbc_nomem(c);
    *s = pbc_string(e);
    return 0;
}

static int PBC_FN(convert_attribute)(struct pbc_converter *c, const PBC(KeyValueAndUnit) *e)
{
    struct ptm_attribute a = {.key = e->key_strindex, .unit = e->unit_strindex};
    a.value.strindex = -1;
    int rc = e->value != NULL ? pbc_convert_any(c, e->value, &a.value) : 0;
    if (rc != 0)
        return rc;
    struct ptm_attribute *slot = PTM_VEC_PUSH(c->m->attributes);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = a;
    return 0;
}

static int PBC_FN(convert_stack)(struct pbc_converter *c, const PBC(Stack) *e)
{
    struct ptm_stack s = {{0, 0}};
    if (pbc_append_indices(c, e->location_indices, e->n_location_indices, &s.locations))
        return pbc_nomem(c);
    struct ptm_stack *slot = PTM_VEC_PUSH(c->m->stacks);
    if (slot == NULL)
        return pbc_nomem(c);
    *slot = s;
    return 0;
}

// Convert the next entry of table `field` (1 mapping_table .. 7
// stack_table); next[field] counts the entries converted so far, across
// every occurrence of the dictionary (protobuf-c merges them in order).
static int PBC_FN(convert_dictionary_entry)(struct pbc_converter *c,
                                            const PBC(ProfilesDictionary) *in, uint32_t field,
                                            size_t next[8])
{
#define PBC_ENTRY(number, table, convert)                  \
    case number:                                           \
        if (next[number] >= in->n_##table)                \
            return 0;                                      \
        return PBC_FN(convert)(c, in->table[next[number]++]);
    switch (field) {
        PBC_ENTRY(1, mapping_table, convert_mapping)
        PBC_ENTRY(2, location_table, convert_location)
        PBC_ENTRY(3, function_table, convert_function)
        PBC_ENTRY(4, link_table, convert_link)
        PBC_ENTRY(5, string_table, convert_string)
        PBC_ENTRY(6, attribute_table, convert_attribute)
        PBC_ENTRY(7, stack_table, convert_stack)
    default: return 0;
    }
#undef PBC_ENTRY
}

static int PBC_FN(convert_dictionary)(struct pbc_converter *c, const PBC(ProfilesDictionary) *in,
                                      struct pb_reader bytes, size_t next[8])
{
    uint32_t field;
    struct pb_reader body;
    int rc = 0;
    while (rc == 0 && pbc_next_field(&bytes, &field, &body))
        rc = PBC_FN(convert_dictionary_entry)(c, in, field, next);
    return rc;
}

// Unpack the request, then convert it walking its bytes.
static int PBC_FN(decode)(struct pbc_converter *c, const uint8_t *data, size_t len)
{
    ProtobufCAllocator allocator = ptm_protobuf_c_arena(c->m->arena);
    PBC(ProfilesData) *request = PBC_UNPACK(&allocator, len, data);
    if (request == NULL)
        return pbc_unpack_failed(c);
    struct pb_reader r = pb_reader_make(data, len), body;
    size_t next_resource = 0, next_entry[8] = {0};
    uint32_t field;
    int rc = 0;
    while (rc == 0 && pbc_next_field(&r, &field, &body)) {
        if (field == 1 && next_resource < request->n_resource_profiles)
            rc = PBC_FN(convert_resource_profiles)(c, request->resource_profiles[next_resource++],
                                                    body);
        else if (field == 2 && request->dictionary != NULL)
            rc = PBC_FN(convert_dictionary)(c, request->dictionary, body, next_entry);
    }
    return rc;
}

#undef PBC_N

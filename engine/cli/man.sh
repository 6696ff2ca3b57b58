#!/bin/sh
# Write the manual page profiletometrics(1) from the command's own --help
# texts, so the two never disagree.
#   man.sh BINARY VERSION > profiletometrics.1
# The page: NAME, SYNOPSIS, the main help as DESCRIPTION, then one COMMANDS
# subsection per command ("COMMAND --help", verbatim), FILES and SEE ALSO.
set -eu
bin=$1
version=$2

# Help text as roff: verbatim (.nf), backslashes escaped, and a line that
# starts with . or ' protected so it is not read as a request.
verbatim() {
    echo '.nf'
    sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    echo '.fi'
}

commands=$("$bin" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')

cat <<ROFF
.TH PROFILETOMETRICS 1 "" "profiletometrics $version" "User Commands"
.SH NAME
profiletometrics \\- turn profiles (OTLP profiles, pprof) into OpenTelemetry metrics
.SH SYNOPSIS
.B profiletometrics
.I COMMAND
.RI [ options ]
.RI [ ARGS ]
.SH DESCRIPTION
ROFF
"$bin" --help | verbatim
echo '.SH COMMANDS'
for c in $commands; do
    echo ".SS $c"
    "$bin" "$c" --help | verbatim
done
cat <<'ROFF'
.SH FILES
The rule runtime and the built-in rules (cpu, memory, off_cpu, function) are
compiled into the program; no file is needed beside it.
.SH SEE ALSO
The library for embedding: profiletometrics.h, pkg-config module
.BR profiletometrics ,
and the LuaJIT module
.BR profiletometrics.lua .
In the source tree: README.md, docs/configuration.md, docs/rules.md and
docs/embedding.md.
ROFF

#!/usr/bin/env bash
# The PostgreSQL twin of bench/baseline-export.sh, the export baseline of bench/run.sh's
# PostgreSQL tables (issue 13): each of one company's tables as JSON lines with
# `psql -c "\copy (SELECT row_to_json(t) FROM (...) t) TO FILE"` (the same six queries, filtered
# to the company with a join; users without their password hashes), then `zip -6` of the files.
#
# Usage: bench/baseline-export-pg.sh URL COMPANY_NAME OUT.zip   (OUT.zip must not exist)
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 URL COMPANY_NAME OUT.zip" >&2
    exit 2
fi
url=$1
company=${2//\'/\'\'}
out=$(realpath -m "$3")
dir=$(mktemp -d "$(dirname "$out")/baseline-export.XXXXXX")
trap 'rm -rf "$dir"' EXIT

of_company="JOIN companies c ON c.id = t.company_id WHERE c.name = '$company'"

# One table: its rows as JSON, one object a line, into $dir/NAME.json. \copy is psql's: the
# client writes the file. The query is on one line (a \copy command ends at the line's end).
copy() {
    local name=$1 query
    query=$(tr '\n' ' ' <<<"$2")
    psql -X -q -v ON_ERROR_STOP=1 "$url" \
        -c "\\copy (SELECT row_to_json(t) FROM ($query) t) TO '$dir/$name.json'"
}

copy users "
    SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.role, a.role AS company_role,
           u.is_active, u.email_verified, u.preferences, u.created_at, u.updated_at
    FROM users u
    JOIN user_company_associations a ON a.user_id = u.id
    JOIN companies c ON c.id = a.company_id WHERE c.name = '$company'"
copy custom_fields "SELECT f.* FROM custom_fields f
    JOIN companies c ON c.id = f.company_id WHERE c.name = '$company'"
copy tickets "SELECT t.* FROM tickets t $of_company"
copy ticket_notes "SELECT n.* FROM ticket_notes n
    JOIN tickets t ON t.id = n.ticket_id $of_company"
copy ticket_history "SELECT h.* FROM ticket_history h
    JOIN tickets t ON t.id = h.ticket_id $of_company"
copy file_attachments "SELECT a.* FROM file_attachments a
    JOIN tickets t ON t.id = a.ticket_id $of_company"

cd "$dir"
zip -6 -q "$out" users.json custom_fields.json tickets.json ticket_notes.json \
    ticket_history.json file_attachments.json

#!/usr/bin/env bash
# The export an operator would write without bomizzel-backup, the baseline of bench/run.sh:
# each of one company's tables as JSON with `sqlite3 -json` (filtered to the company with a
# join; users without their password hashes), written to files, then `zip -6` of the files.
#
# Usage: bench/baseline-export.sh DB COMPANY_NAME OUT.zip   (OUT.zip must not exist)
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 DB COMPANY_NAME OUT.zip" >&2
    exit 2
fi
db=$1
company=${2//\'/\'\'}
out=$(realpath -m "$3")
dir=$(mktemp -d "$(dirname "$out")/baseline-export.XXXXXX")
trap 'rm -rf "$dir"' EXIT

of_company="JOIN companies c ON c.id = t.company_id WHERE c.name = '$company'"

sqlite3 -json "$db" "
    SELECT u.id, u.email, u.first_name, u.last_name, u.phone, u.role, a.role AS company_role,
           u.is_active, u.email_verified, u.preferences, u.created_at, u.updated_at
    FROM users u
    JOIN user_company_associations a ON a.user_id = u.id
    JOIN companies c ON c.id = a.company_id WHERE c.name = '$company'" >"$dir/users.json"
sqlite3 -json "$db" "SELECT f.* FROM custom_fields f
    JOIN companies c ON c.id = f.company_id WHERE c.name = '$company'" >"$dir/custom_fields.json"
sqlite3 -json "$db" "SELECT t.* FROM tickets t $of_company" >"$dir/tickets.json"
sqlite3 -json "$db" "SELECT n.* FROM ticket_notes n
    JOIN tickets t ON t.id = n.ticket_id $of_company" >"$dir/ticket_notes.json"
sqlite3 -json "$db" "SELECT h.* FROM ticket_history h
    JOIN tickets t ON t.id = h.ticket_id $of_company" >"$dir/ticket_history.json"
sqlite3 -json "$db" "SELECT a.* FROM file_attachments a
    JOIN tickets t ON t.id = a.ticket_id $of_company" >"$dir/file_attachments.json"

cd "$dir"
zip -6 -q "$out" users.json custom_fields.json tickets.json ticket_notes.json \
    ticket_history.json file_attachments.json

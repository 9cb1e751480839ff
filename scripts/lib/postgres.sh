# shellcheck shell=bash
# Shared by scripts/backup and scripts/restore: the connection from a DATABASE_URL.
#
# connect_to URL sets PG_URL, the URL without its password, for the tools' --dbname, and
# exports PGPASSWORD with the password (percent-decoded), so that the password never
# appears on a command line, where other users of the machine could read it.

connect_to() {
  local url=$1
  if [[ -z $url ]]; then
    echo "No database: set DATABASE_URL or pass --database-url postgres://..." >&2
    return 1
  fi
  if [[ ! $url =~ ^postgres(ql)?:// ]]; then
    echo "Only PostgreSQL databases (postgres://...) are backed up and restored here." \
      "For SQLite, copy the file with: sqlite3 var/db.sqlite3 \".backup FILE\"" >&2
    return 1
  fi
  local scheme=${url%%://*} rest=${url#*://}
  local authority=${rest%%/*} path=
  [[ $rest == */* ]] && path=/${rest#*/}
  if [[ $authority == *@* ]]; then
    local userinfo=${authority%@*} host=${authority##*@}
    if [[ $userinfo == *:* ]]; then
      local password=${userinfo#*:}
      PGPASSWORD=$(printf '%b' "${password//%/\\x}")
      export PGPASSWORD
      userinfo=${userinfo%%:*}
    fi
    authority=$userinfo@$host
  fi
  PG_URL=$scheme://$authority$path
}

# The database's name, for messages.
database_name() {
  local path=${PG_URL#*://*/}
  echo "database ${path%%\?*}"
}

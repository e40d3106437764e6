# Functions shared by the maintainer scripts of glci-collector and
# glci-agent, which both run their daemon as the system user glci.

# s_user_add: creates the system user and group glci unless they exist.
s_user_add() {
    if ! getent group glci >/dev/null; then
        addgroup --system --quiet glci
    fi
    if ! getent passwd glci >/dev/null; then
        adduser --system --quiet --ingroup glci --home /nonexistent \
            --no-create-home --shell /usr/sbin/nologin \
            --gecos "glci collector and agent" glci
    fi
}

# s_dir_make DIR MODE: makes DIR owned by glci with MODE unless it exists
# (an existing folder keeps whatever owner and mode the operator gave it).
s_dir_make() {
    if [ ! -d "$1" ]; then
        install -d -o glci -g glci -m "$2" "$1"
    fi
}

# s_dir_purge DIR...: removes each folder that is empty (deepest first);
# says so and keeps it when it still holds data.
s_dir_purge() {
    for d in "$@"; do
        [ -d "$d" ] || continue
        if ! rmdir "$d" 2>/dev/null; then
            echo "@GLCI_PKG@: kept $d: it still holds data; remove it by hand once it is backed up" >&2
        fi
    done
}

# s_user_purge OTHER_PACKAGE: removes the user glci once neither package is
# installed and no folder of theirs is left (files would otherwise be owned
# by a number that a later user could receive).
s_user_purge() {
    status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)
    case "$status" in
        ""|not-installed|config-files) ;;
        *) return 0 ;;
    esac
    [ -d /var/lib/glci ] && return 0
    [ -d /var/lib/glci-agent ] && return 0
    if getent passwd glci >/dev/null; then
        if command -v deluser >/dev/null; then
            deluser --system --quiet glci >/dev/null 2>&1 || userdel glci || true
        else
            userdel glci || true
        fi
    fi
    if getent group glci >/dev/null; then
        if command -v delgroup >/dev/null; then
            delgroup --system --quiet --only-if-empty glci || true
        else
            groupdel glci || true
        fi
    fi
}

# s_systemd_reload: tells a running systemd that unit files changed.
s_systemd_reload() {
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null 2>&1 || true
    fi
}

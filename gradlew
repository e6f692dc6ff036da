#!/bin/sh
# Gradle wrapper of this repository, in plain POSIX sh (no gradle-wrapper.jar).
#
# Reads gradle/wrapper/gradle-wrapper.properties, downloads distributionUrl once into
# $GRADLE_USER_HOME/wrapper/dists (default ~/.gradle), refuses it unless its SHA-256
# equals distributionSha256Sum (when that is set), unpacks it, and runs its bin/gradle
# with this script's arguments:
#
#   ./gradlew :android-app:assembleDebug
#
# Needs: curl or wget (or a file:// URL), unzip, sha256sum (or shasum, or openssl), and
# a JDK (JAVA_HOME or java on PATH) for Gradle itself.
set -eu

die() {
    printf 'gradlew: %s\n' "$*" >&2
    exit 1
}

# The directory of this script (the project root), following a symlink to the script.
script=$0
while [ -h "$script" ]; do
    link=$(ls -ld "$script")
    link=${link#*' -> '}
    case $link in
        /*) script=$link ;;
        *) script=$(dirname "$script")/$link ;;
    esac
done
app_home=$(cd "$(dirname "$script")" && pwd -P) || die "cannot find the project directory"
props=$app_home/gradle/wrapper/gradle-wrapper.properties
[ -f "$props" ] || die "missing $props"

# prop KEY: the value of KEY in the properties file (Java properties: 'key=value' or
# 'key: value', '#' and '!' comments, a backslash escapes the next character).
prop() {
    sed -n \
        -e '/^[[:space:]]*[#!]/d' \
        -e "s/^[[:space:]]*$1[[:space:]]*[=:][[:space:]]*//p" \
        "$props" | sed -e 's/[[:space:]]*$//' -e 's/\\\(.\)/\1/g' | tail -n 1
}

url=$(prop distributionUrl)
sum=$(prop distributionSha256Sum | tr 'A-F' 'a-f')
dist_base=$(prop distributionBase)
dist_path=$(prop distributionPath)
zip_base=$(prop zipStoreBase)
zip_path=$(prop zipStorePath)
[ -n "$url" ] || die "no distributionUrl in $props"
if [ -n "$sum" ] && ! printf '%s\n' "$sum" | grep -Eq '^[0-9a-f]{64}$'; then
    die "distributionSha256Sum in $props is not 64 hex digits"
fi

user_home=${GRADLE_USER_HOME:-$HOME/.gradle}
base_dir() { # BASE -> directory
    case ${1:-GRADLE_USER_HOME} in
        GRADLE_USER_HOME) printf '%s\n' "$user_home" ;;
        PROJECT) printf '%s\n' "$app_home" ;;
        *) die "unknown base '$1' in $props (GRADLE_USER_HOME or PROJECT)" ;;
    esac
}
dists=$(base_dir "$dist_base")/${dist_path:-wrapper/dists}
zips=$(base_dir "$zip_base")/${zip_path:-wrapper/dists}

sha256_of() { # FILE -> hex digest
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -c1-64
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -c1-64
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 "$1" | sed 's/.*= *//'
    else
        die "need sha256sum, shasum or openssl to verify the Gradle distribution"
    fi
}
sha256_str() { # STRING -> hex digest
    tmp_s=$(mktemp "${TMPDIR:-/tmp}/gradlew.XXXXXX")
    printf '%s' "$1" >"$tmp_s"
    sha256_of "$tmp_s"
    rm -f "$tmp_s"
}

zip_name=${url##*/}
case $zip_name in
    *.zip) ;;
    *) die "distributionUrl must name a .zip: $url" ;;
esac
dist_name=${zip_name%.zip}
# One directory per URL and checksum, so that changing either fetches anew.
key=$(sha256_str "$url $sum" | cut -c1-16)
home_dir=$dists/$dist_name/$key
zip_file=$zips/$dist_name/$key/$zip_name
ok_mark=$home_dir/.phonehome-gradlew-ok

if [ ! -f "$ok_mark" ]; then
    command -v unzip >/dev/null 2>&1 || die "need unzip to unpack the Gradle distribution"
    mkdir -p "$home_dir" "$(dirname "$zip_file")"
    if [ ! -f "$zip_file" ]; then
        part=$zip_file.part.$$
        trap 'rm -f "$part"' EXIT INT TERM
        printf 'gradlew: downloading %s\n' "$url" >&2
        case $url in
            file://*)
                cp "${url#file://}" "$part" || die "cannot copy $url"
                ;;
            *)
                if command -v curl >/dev/null 2>&1; then
                    curl -fL --retry 3 --connect-timeout 30 -o "$part" "$url" || die "download failed: $url"
                elif command -v wget >/dev/null 2>&1; then
                    wget -q -O "$part" "$url" || die "download failed: $url"
                else
                    die "need curl or wget to download $url"
                fi
                ;;
        esac
        if [ -n "$sum" ]; then
            got=$(sha256_of "$part")
            if [ "$got" != "$sum" ]; then
                rm -f "$part"
                die "checksum mismatch for $url: expected $sum, got $got; refusing it"
            fi
        else
            printf 'gradlew: warning: no distributionSha256Sum in %s; %s is not verified\n' "$props" "$zip_name" >&2
        fi
        mv "$part" "$zip_file"
        trap - EXIT INT TERM
    elif [ -n "$sum" ]; then
        got=$(sha256_of "$zip_file")
        if [ "$got" != "$sum" ]; then
            rm -f "$zip_file"
            die "cached $zip_file does not match distributionSha256Sum; removed it, run again"
        fi
    fi
    unpack=$home_dir/.unpack.$$
    rm -rf "$unpack"
    mkdir -p "$unpack"
    trap 'rm -rf "$unpack"' EXIT INT TERM
    unzip -q "$zip_file" -d "$unpack" || die "cannot unpack $zip_file"
    top=
    for d in "$unpack"/*/; do
        if [ -f "$d/bin/gradle" ]; then
            top=${d%/}
            break
        fi
    done
    [ -n "$top" ] || die "$zip_name has no <dir>/bin/gradle"
    top_name=${top##*/}
    rm -rf "${home_dir:?}/$top_name"
    mv "$top" "$home_dir/$top_name"
    rm -rf "$unpack"
    trap - EXIT INT TERM
    chmod +x "$home_dir/$top_name/bin/gradle"
    printf '%s\n' "$top_name" >"$ok_mark"
fi

gradle_home=$home_dir/$(cat "$ok_mark")
[ -x "$gradle_home/bin/gradle" ] || die "broken Gradle in $gradle_home (remove $home_dir and run again)"
exec "$gradle_home/bin/gradle" "$@"

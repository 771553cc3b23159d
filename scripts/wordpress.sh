#!/usr/bin/env bash
# A stock WordPress from the Debian packages, on loopback, for bench/realsite.py:
# a private MariaDB (socket only, no TCP) and a private Apache (mod_php, mod_rewrite,
# mod_deflate: its ETags get the "-gzip" suffix) in DIR, listening on 127.0.0.1:PORT.
#
#   bash scripts/wordpress.sh start DIR PORT CONTENT.json   # install, fill, serve; prints truth JSON path
#   bash scripts/wordpress.sh stop DIR
#
# CONTENT.json: {"title": ..., "users": [{"login", "name"}], "posts": [{"title", "author",
# "date_gmt", "categories", "tags", "content", "comments": [{"author", "date_gmt", "text"}]}],
# "pages": [{"title", "content"}]}. The installed site's articles (permalinks, authors,
# dates as WordPress stores them) are written to DIR/truth.json.
# Needs root (it installs apache2, libapache2-mod-php, php-mysql, mariadb-server and
# wordpress when missing, and writes /etc/wordpress/config-wiredesk.php, which reads the
# instance directory from the WIREDESK_WP_DIR server variable).
set -euo pipefail
cmd="${1:?start|stop}"
dir="$(realpath -m "${2:?DIR}")"
here="$(cd "$(dirname "$0")" && pwd)"

stop() {
  if [ -f "$dir/apache2.pid" ]; then
    kill "$(cat "$dir/apache2.pid")" 2>/dev/null || true
  fi
  if [ -f "$dir/mysqld.pid" ]; then
    kill "$(cat "$dir/mysqld.pid")" 2>/dev/null || true
  fi
  for _ in $(seq 1 50); do
    { [ -f "$dir/apache2.pid" ] && kill -0 "$(cat "$dir/apache2.pid")" 2>/dev/null; } \
      || { [ -f "$dir/mysqld.pid" ] && kill -0 "$(cat "$dir/mysqld.pid")" 2>/dev/null; } || break
    sleep 0.2
  done
  rm -f "$dir/apache2.pid" "$dir/mysqld.pid"
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
port="${3:?PORT}"
content="$(realpath "${4:?CONTENT.json}")"

need=()
[ -x /usr/sbin/apache2 ] || need+=(apache2)
[ -f /usr/lib/apache2/modules/libphp8.2.so ] || ls /usr/lib/apache2/modules/libphp*.so >/dev/null 2>&1 || need+=(libapache2-mod-php)
php -m 2>/dev/null | grep -qi mysqli || need+=(php-mysql)
php -m 2>/dev/null | grep -qi simplexml || need+=(php-xml)  # wp-sitemap.xml needs SimpleXML
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -d /usr/share/wordpress ] || need+=(wordpress)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "wordpress: missing ${need[*]} (run as root to install)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get install -y -q "${need[@]}" >/dev/null; }
fi

stop
rm -rf "$dir"
mkdir -p "$dir/mysql" "$dir/logs"
chmod 755 "$dir"

# --- MariaDB: own data directory, socket only ---------------------------------------------
mariadb-install-db --no-defaults --datadir="$dir/mysql" --user=root --auth-root-authentication-method=normal >"$dir/logs/mysql-install.log" 2>&1
/usr/sbin/mariadbd --no-defaults --datadir="$dir/mysql" --socket="$dir/mysql.sock" --pid-file="$dir/mysqld.pid" \
  --skip-networking --user=root --log-error="$dir/logs/mysql.err" >/dev/null 2>&1 &
for _ in $(seq 1 100); do [ -S "$dir/mysql.sock" ] && break; sleep 0.1; done
mariadb --no-defaults -S "$dir/mysql.sock" -u root -e \
  "CREATE DATABASE wordpress; CREATE USER 'wordpress'@'localhost' IDENTIFIED BY 'wordpress';
   GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';"
chmod 777 "$dir/mysql.sock"

# --- WordPress config (Debian's wp-config.php includes it) -----------------------------------
cat >/etc/wordpress/config-wiredesk.php <<'PHP'
<?php
// wiredesk bench instances: the instance directory comes from the server (SetEnv) or CLI.
$wiredesk_dir = $_SERVER['WIREDESK_WP_DIR'] ?? getenv('WIREDESK_WP_DIR');
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', 'wordpress');
define('DB_HOST', 'localhost:' . $wiredesk_dir . '/mysql.sock');
define('WP_CONTENT_DIR', '/usr/share/wordpress/wp-content');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
PHP

# --- Apache: own config, mod_php, pretty permalinks, mod_deflate ---------------------------
mods=/usr/lib/apache2/modules
php_mod="$(ls $mods/libphp*.so | head -n 1)"
cat >"$dir/apache2.conf" <<CONF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/apache2.pid
Mutex file:$dir default
User www-data
Group www-data
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
LoadModule rewrite_module $mods/mod_rewrite.so
LoadModule filter_module $mods/mod_filter.so
LoadModule deflate_module $mods/mod_deflate.so
LoadModule env_module $mods/mod_env.so
LoadModule php_module $php_mod
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 8
TypesConfig /etc/mime.types
ErrorLog $dir/logs/error.log
LogFormat "%{%s}t.%{msec_frac}t\t%p\t%m\t%<U%<q\t%>s\t%{If-None-Match}i\t%{If-Modified-Since}i\t%{User-Agent}i" wiredesk
CustomLog $dir/logs/access.log wiredesk
AddOutputFilterByType DEFLATE text/html text/plain text/xml application/xml application/rss+xml application/atom+xml
DocumentRoot /usr/share/wordpress
DirectoryIndex index.php index.html
SetEnv WORDPRESS_CONFIG wiredesk
SetEnv WIREDESK_WP_DIR $dir
<FilesMatch \.php$>
  SetHandler application/x-httpd-php
</FilesMatch>
<Directory /usr/share/wordpress>
  Require all granted
  AllowOverride None
  RewriteEngine On
  RewriteBase /
  RewriteRule ^index\.php$ - [L]
  RewriteCond %{REQUEST_FILENAME} !-f
  RewriteCond %{REQUEST_FILENAME} !-d
  RewriteRule . /index.php [L]
</Directory>
CONF

# --- install and fill (PHP CLI, WordPress's own API) --------------------------------------
WIREDESK_WP_DIR="$dir" php "$here/wordpress_fill.php" "127.0.0.1:$port" "$content" "$dir/truth.json" >"$dir/logs/fill.log" 2>&1 \
  || { cat "$dir/logs/fill.log" >&2; exit 1; }
/usr/sbin/apache2 -f "$dir/apache2.conf" -k start
for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "$dir/truth.json"

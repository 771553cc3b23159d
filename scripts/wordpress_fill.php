<?php
// Install WordPress and fill it through its own API (called by scripts/wordpress.sh).
// Usage: php wordpress_fill.php HOST:PORT CONTENT.json TRUTH.json
[$_script, $host, $content_path, $truth_path] = $argv;
$_SERVER['HTTP_HOST'] = $host;
$_SERVER['SERVER_NAME'] = explode(':', $host)[0];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['WORDPRESS_CONFIG'] = 'wiredesk';
$_SERVER['WIREDESK_WP_DIR'] = getenv('WIREDESK_WP_DIR');
define('WP_INSTALLING', true);
require '/usr/share/wordpress/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$c = json_decode(file_get_contents($content_path), true);
wp_install($c['title'], 'admin', 'admin@example.org', true, '', wp_generate_password(24));
update_option('siteurl', "http://$host");
update_option('home', "http://$host");
update_option('blogdescription', $c['tagline'] ?? '');
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');  // "Month and name"
update_option('timezone_string', 'UTC');

$users = [];
foreach ($c['users'] as $u) {
    [$first, $last] = array_pad(explode(' ', $u['name'], 2), 2, '');
    $users[$u['login']] = wp_insert_user([
        'user_login' => $u['login'], 'user_pass' => wp_generate_password(24), 'role' => 'author',
        'display_name' => $u['name'], 'first_name' => $first, 'last_name' => $last,
        'user_email' => $u['login'] . '@example.org',
    ]);
}
$terms = [];
foreach ($c['posts'] as $p) {
    $cats = [];
    foreach ($p['categories'] as $name) {
        if (!isset($terms[$name])) {
            $t = wp_insert_term($name, 'category');
            $terms[$name] = is_wp_error($t) ? $t->get_error_data() : $t['term_id'];
        }
        $cats[] = $terms[$name];
    }
    $id = wp_insert_post([
        'post_title' => $p['title'], 'post_content' => $p['content'], 'post_status' => 'publish',
        'post_author' => $users[$p['author']], 'post_date_gmt' => $p['date_gmt'],
        'post_date' => get_date_from_gmt($p['date_gmt']), 'post_category' => $cats,
        'tags_input' => $p['tags'],
    ], true);
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
    foreach ($p['comments'] as $k) {
        wp_insert_comment([
            'comment_post_ID' => $id, 'comment_author' => $k['author'], 'comment_content' => $k['text'],
            'comment_date_gmt' => $k['date_gmt'], 'comment_date' => get_date_from_gmt($k['date_gmt']),
            'comment_approved' => 1, 'comment_author_email' => 'reader@example.org',
        ]);
    }
}
foreach ($c['pages'] as $p) {
    wp_insert_post(['post_type' => 'page', 'post_title' => $p['title'], 'post_content' => $p['content'],
                    'post_status' => 'publish', 'post_author' => 1]);
}
// The taxonomies were registered while permalinks were still off (no category/tag rules):
// register them again, as a request would after this option change, then rebuild the rules.
create_initial_taxonomies();
flush_rewrite_rules(false);

$truth = [];
foreach (get_posts(['numberposts' => -1, 'post_type' => 'post', 'post_status' => 'publish']) as $post) {
    $truth[] = [
        'url' => get_permalink($post),
        'title' => $post->post_title,
        'author' => get_the_author_meta('display_name', $post->post_author),
        'published' => str_replace(' ', 'T', $post->post_date_gmt) . '+00:00',
    ];
}
file_put_contents($truth_path, json_encode(['home' => home_url('/'), 'articles' => $truth], JSON_PRETTY_PRINT));
echo "ok\n";

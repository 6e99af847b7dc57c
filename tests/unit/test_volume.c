/* --volume HOST:GUEST[:ro|rw] parsing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/volume.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/moat-vol-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/file", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/link", dir);
    unlink(p);
    rmdir(dir);
}

TestSuite(volume, .init = setup, .fini = teardown);

Test(volume, plain_is_writable)
{
    char spec[128], err[256];
    snprintf(spec, sizeof(spec), "%s:/data", dir);
    struct volume v;
    cr_assert_eq(volume_parse(spec, &v, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(v.host, dir);
    cr_assert_str_eq(v.guest, "/data");
    cr_assert_not(v.readonly);
    volume_free(&v);
}

Test(volume, options_and_cleaning)
{
    char spec[128], err[256];
    struct volume v;
    snprintf(spec, sizeof(spec), "%s/:/a//b/:ro", dir);
    cr_assert_eq(volume_parse(spec, &v, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(v.host, dir);
    cr_assert_str_eq(v.guest, "/a/b");
    cr_assert(v.readonly);
    volume_free(&v);
    snprintf(spec, sizeof(spec), "%s:/x:rw", dir);
    cr_assert_eq(volume_parse(spec, &v, err, sizeof(err)), 0, "%s", err);
    cr_assert_not(v.readonly);
    volume_free(&v);
}

Test(volume, host_symlink_is_resolved_on_the_host)
{
    char link[128], spec[160], err[256];
    snprintf(link, sizeof(link), "%s/link", dir);
    cr_assert_eq(symlink(dir, link), 0);
    snprintf(spec, sizeof(spec), "%s:/d", link);
    struct volume v;
    cr_assert_eq(volume_parse(spec, &v, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(v.host, dir);
    volume_free(&v);
}

static void refused(const char *spec, const char *words)
{
    char err[256];
    struct volume v;
    cr_assert_eq(volume_parse(spec, &v, err, sizeof(err)), -1, "accepted %s", spec);
    cr_assert(strstr(err, words), "'%s' gave '%s', wanted '%s'", spec, err, words);
    cr_assert_null(v.host);
    cr_assert_null(v.guest);
}

Test(volume, bad_specs_name_the_problem)
{
    char spec[160], file[128];
    refused("nocolon", "expected HOST:GUEST");
    refused(":/x", "expected HOST:GUEST");
    snprintf(spec, sizeof(spec), "%s:relative", dir);
    refused(spec, "must be absolute");
    snprintf(spec, sizeof(spec), "%s:", dir);
    refused(spec, "must be absolute");
    snprintf(spec, sizeof(spec), "%s:/x:rx", dir);
    refused(spec, "unknown option 'rx'");
    snprintf(spec, sizeof(spec), "%s://", dir);
    refused(spec, "over the sandbox's root");
    refused("/nonexistent/moat-vol:/x", "No such file or directory");
    snprintf(file, sizeof(file), "%s/file", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(spec, sizeof(spec), "%s:/x", file);
    refused(spec, "Not a directory");
}

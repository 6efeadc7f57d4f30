/* Job arrays without MPI, as a user runs them: `--shard I/N` + `polyact merge`
 * give calib.json and plan.json byte-identical to one process, and eval
 * numbers identical to `polyact eval`; a missing shard, a foreign part, a
 * hostile file or a wrong flag is one line on stderr and the right exit
 * code. ResNet-20 on the shared images (few images: the point is identity). */
#include "scaleout_cli.h"

static int n;

#define CLI pact_test_cli()

static void expect_fail(int rc, int want_rc, const char *what, const char *must_contain)
{
    CHECK(rc == want_rc && so_err_lines() == 1 && (!must_contain || strstr(so_err, must_contain)),
          "%s: exit %d (expected %d), stderr: %s", what, rc, want_rc, so_err);
    n++;
}

static void check_calibrate(void)
{
    const char *common = "--images 96 --chunk 32 --bins 512 --threads 1";
    int rc = so_run("'%s' calibrate --model '%s' --data '%s' %s -o serial.json", CLI, so_model,
                    so_train, common);
    CHECK(rc == 0, "serial calibrate: exit %d: %s", rc, so_err);
    for (int i = 0; i < 2; i++) {
        rc = so_run("'%s' calibrate --model '%s' --data '%s' %s --shard %d/2 --pass 1 -o s1.%d.json",
                    CLI, so_model, so_train, common, i, i);
        CHECK(rc == 0, "pass 1 shard %d: exit %d: %s", i, rc, so_err);
    }
    rc = so_run("'%s' merge -o stats.json s1.1.json s1.0.json", CLI);
    CHECK(rc == 0, "merge pass 1: exit %d: %s", rc, so_err);
    for (int i = 0; i < 2; i++) {
        rc = so_run("'%s' calibrate --model '%s' --data '%s' %s --shard %d/2 --pass 2 --stats stats.json "
                    "-o s2.%d.json", CLI, so_model, so_train, common, i, i);
        CHECK(rc == 0, "pass 2 shard %d: exit %d: %s", i, rc, so_err);
    }
    rc = so_run("'%s' merge -o calib.json s2.0.json s2.1.json", CLI);
    CHECK(rc == 0, "merge pass 2: exit %d: %s", rc, so_err);
    CHECK(so_same_file("calib.json", "serial.json"), "sharded calib.json differs from the serial one");
    n += 7;

    /* errors: one line each */
    rc = so_run("'%s' merge -o x.json s2.0.json", CLI);
    expect_fail(rc, 1, "merge without shard 1", "shard(s) 1 of 2");
    CHECK(!so_exists("x.json"), "a partial merge wrote x.json");
    n++;
    rc = so_run("'%s' merge -o x.json s1.0.json s2.1.json", CLI);
    expect_fail(rc, 1, "merging pass-1 and pass-2 parts", "s2.1.json");
    rc = so_run("'%s' merge -o x.json s2.0.json s2.0.json", CLI);
    expect_fail(rc, 1, "merging one part twice", "appears in both");
    rc = so_run("'%s' calibrate --model '%s' --data '%s' --images 64 --chunk 32 --bins 512 --shard 0/2 "
                "--pass 2 --stats stats.json -o y.json", CLI, so_model, so_train);
    expect_fail(rc, 1, "pass 2 with the statistics of other images", "another job");
    rc = so_run("'%s' calibrate --model '%s' --data '%s' %s --shard 0/2 --pass 2 -o y.json", CLI,
                so_model, so_train, common);
    expect_fail(rc, 2, "--pass 2 without --stats", "--stats");
    rc = so_run("'%s' calibrate --model '%s' --data '%s' %s --shard 2/2 -o y.json", CLI, so_model,
                so_train, common);
    expect_fail(rc, 2, "--shard 2/2", "--shard");
    rc = so_run("'%s' calibrate --model '%s' --data '%s' %s --pass 1 -o y.json", CLI, so_model,
                so_train, common);
    expect_fail(rc, 2, "--pass without --shard", "--shard");
    /* a hostile part: valid JSON, a histogram that does not add up */
    rc = so_run("sed 's/\"sums\":\\[\\([0-9]*\\)/\"sums\":[9\\1/' s2.1.json > bad.json && "
                "'%s' merge -o x.json s2.0.json bad.json", CLI);
    expect_fail(rc, 1, "a part with a doctored count", "inconsistent");
    rc = so_run("head -c 200 s2.1.json > cut.json && '%s' merge -o x.json s2.0.json cut.json", CLI);
    expect_fail(rc, 1, "a truncated part", "cut.json");
    CHECK(!so_exists("x.json") && !so_exists("y.json"), "a failed run left an output file");
    n++;
}

static void check_eval(void)
{
    const char *common = "--images 70 --batch 16 --threads 1 --uniform lsq:degree=5 --calib serial.json";
    int rc = so_run("'%s' eval --model '%s' --data '%s' %s --json", CLI, so_model, so_test, common);
    CHECK(rc == 0, "serial eval: exit %d: %s", rc, so_err);
    char serial[1 << 16];
    snprintf(serial, sizeof serial, "%s", so_out);
    for (int i = 0; i < 3; i++) {
        rc = so_run("'%s' eval --model '%s' --data '%s' %s --shard %d/3 -o e.%d.json", CLI, so_model,
                    so_test, common, i, i);
        CHECK(rc == 0, "eval shard %d: exit %d: %s", i, rc, so_err);
    }
    rc = so_run("'%s' merge --json e.2.json e.0.json e.1.json", CLI);
    CHECK(rc == 0, "merge eval: exit %d: %s", rc, so_err);
    const char *diff = so_eval_diff(serial, so_out);
    CHECK(!diff, "merged eval differs from the serial one in '%s':\n%s\n%s", diff, serial, so_out);
    CHECK(so_json_number(so_out, "images") == 70, "merged report of %g images", so_json_number(so_out, "images"));
    n += 6;
    rc = so_run("'%s' eval --model '%s' --data '%s' %s --shard 0/3", CLI, so_model, so_test, common);
    expect_fail(rc, 2, "eval --shard without -o", "-o");
    rc = so_run("'%s' merge -o z.json e.0.json e.1.json e.2.json", CLI);
    expect_fail(rc, 2, "merge of eval parts with -o", "stdout");
}

static void check_optimize(void)
{
    const char *common = "--images 48 --impact-images 16 --batch 16 --degrees 2,5 --floors 0.2 "
                         "--threads 1 --max-drop 100 --calib serial.json";
    int rc = so_run("'%s' optimize --model '%s' --data '%s' %s -o plan_serial.json", CLI, so_model,
                    so_train, common);
    CHECK(rc == 0, "serial optimize: exit %d: %s", rc, so_err);
    for (int i = 0; i < 3; i++) {
        rc = so_run("'%s' optimize --model '%s' --data '%s' %s --shard %d/3 -o imp.%d.json", CLI,
                    so_model, so_train, common, i, i);
        CHECK(rc == 0, "impact shard %d: exit %d: %s", i, rc, so_err);
    }
    rc = so_run("'%s' merge -o impacts.json imp.0.json imp.1.json imp.2.json", CLI);
    CHECK(rc == 0, "merge impacts: exit %d: %s", rc, so_err);
    rc = so_run("'%s' optimize --model '%s' --data '%s' %s --impacts impacts.json -o plan_sharded.json",
                CLI, so_model, so_train, common);
    CHECK(rc == 0, "optimize --impacts: exit %d: %s", rc, so_err);
    CHECK(so_same_file("plan_sharded.json", "plan_serial.json"),
          "plan.json from merged impact shards differs from the serial one");
    n += 7;
    rc = so_run("'%s' optimize --model '%s' --data '%s' --images 48 --impact-images 16 --batch 16 "
                "--degrees 2,7 --floors 0.2 --threads 1 --calib serial.json --impacts impacts.json "
                "-o p.json", CLI, so_model, so_train);
    expect_fail(rc, 1, "an impact table for other degrees", "another job (degrees: [2,5] in the file, [2,7] here)");
    rc = so_run("'%s' optimize --model '%s' --data '%s' %s --impacts imp.0.json -o p.json", CLI,
                so_model, so_train, common);
    expect_fail(rc, 1, "an incomplete impact table", "merge every shard");
    rc = so_run("'%s' optimize --model '%s' --data '%s' --images 48 --shard 0/2 -o p.json", CLI,
                so_model, so_train);
    expect_fail(rc, 2, "optimize --shard without --calib", "--calib");
    CHECK(!so_exists("p.json"), "a failed optimize left plan.json");
    n++;

    /* per-channel candidates with the refit in the closed loop: the same */
    /* one degree, two floors: a choice for the DP at half the fitting work
     * (this part dominates the test's time under ASan) */
    const char *pc = "--images 48 --impact-images 16 --batch 16 --degrees 3 --floors 0.03,0.2 "
                     "--threads 1 --max-drop 100 --calib serial.json --per-channel --refit";
    rc = so_run("'%s' optimize --model '%s' --data '%s' %s -o pc_serial.json", CLI, so_model,
                so_train, pc);
    CHECK(rc == 0, "serial per-channel optimize: exit %d: %s", rc, so_err);
    for (int i = 0; i < 2; i++) {
        rc = so_run("'%s' optimize --model '%s' --data '%s' %s --shard %d/2 -o pcimp.%d.json", CLI,
                    so_model, so_train, pc, i, i);
        CHECK(rc == 0, "per-channel impact shard %d: exit %d: %s", i, rc, so_err);
    }
    rc = so_run("'%s' merge -o pcimpacts.json pcimp.1.json pcimp.0.json", CLI);
    CHECK(rc == 0, "merge per-channel impacts: exit %d: %s", rc, so_err);
    rc = so_run("'%s' optimize --model '%s' --data '%s' %s --impacts pcimpacts.json -o pc_sharded.json",
                CLI, so_model, so_train, pc);
    CHECK(rc == 0, "per-channel optimize --impacts: exit %d: %s", rc, so_err);
    CHECK(so_same_file("pc_sharded.json", "pc_serial.json"),
          "per-channel plan.json from merged impact shards differs from the serial one");
    n += 6;
    rc = so_run("'%s' optimize --model '%s' --data '%s' --images 48 --impact-images 16 --batch 16 "
                "--degrees 3 --floors 0.03,0.2 --threads 1 --calib serial.json --impacts pcimpacts.json "
                "-o p.json", CLI, so_model, so_train);
    expect_fail(rc, 1, "a per-channel impact table without --per-channel",
                "another job (per_channel: 1 in the file, absent here)");
}

int main(void)
{
    if (!so_setup("shard_cli"))
        return pact_test_done("test_shard_cli", 0);
    check_calibrate();
    check_eval();
    check_optimize();
    so_cleanup();
    return pact_test_done("test_shard_cli", n);
}

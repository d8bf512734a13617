package io.sparkgate.server.launch;

import io.sparkgate.server.values.BatchRequest;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.launcher.SparkLauncher;

/**
 * The one {@code spark-submit} command line of a batch, for both launchers: the server's Spark home and
 * master, the request's options as an argument vector ({@link SparkSubmitArguments}, never a shell line),
 * the batch's directory as working directory and {@code SPARKGATE_BATCH_DIR} (where our
 * {@code bin/spark-submit} writes its pid and the driver's exit code), and stdout and stderr appended to
 * the batch's output file as they are written.
 */
public final class SparkSubmitCommand {

    private SparkSubmitCommand() {}

    /**
     * @param sparkHome the Spark home whose {@code bin/spark-submit} runs (local mode: the wrapper's)
     * @param master where the batch runs ({@code local[*]}, {@code yarn}, ...)
     * @param request what to run, as checked
     * @param serverConf the server's Spark properties; the request's own {@code conf} wins over them
     * @param env environment variables besides the batch directory
     */
    public static SparkLauncher of(Path sparkHome, String master, BatchRequest request,
                                   Map<String, String> serverConf, Path workDir, Path outputFile,
                                   Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        // Absolute: spark-submit runs in the batch directory, so a relative data directory (the default,
        // data) would put the wrapper's pid and exit-code in data/batches/N/data/batches/N/.
        all.put("SPARKGATE_BATCH_DIR", workDir.toAbsolutePath().toString());
        SparkLauncher launcher = new SparkLauncher(all)
                .setSparkHome(sparkHome.toString())
                .setMaster(master)
                .setAppResource(request.file())
                .directory(workDir.toFile())
                .redirectError()
                .redirectOutput(ProcessBuilder.Redirect.appendTo(outputFile.toFile()));
        List<String> options = SparkSubmitArguments.options(request, serverConf);
        for (int i = 0; i < options.size(); i += 2) {
            launcher.addSparkArg(options.get(i), options.get(i + 1));
        }
        launcher.addAppArgs(request.args().toArray(String[]::new));
        return launcher;
    }
}

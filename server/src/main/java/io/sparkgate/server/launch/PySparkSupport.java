package io.sparkgate.server.launch;

import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.InvalidBatchRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Whether a Spark home can run a Python batch. spark-submit runs a {@code .py} application (or one with
 * {@code --py-files}) only with the Python side of a distribution, {@code python/lib/pyspark.zip}; the
 * embedded Spark home has none (it is assembled from Maven Central, which has no PySpark). Without it a
 * Python batch is refused at create, saying what to set, instead of dying at launch.
 */
public final class PySparkSupport {

    /** What spark-submit puts on a Python driver's path. */
    static final String PYSPARK_ZIP = "python/lib/pyspark.zip";

    private PySparkSupport() {}

    /** Whether the request runs Python: a {@code .py} primary resource or any Python files. */
    public static boolean isPython(BatchRequest request) {
        return request.file().toLowerCase(Locale.ROOT).endsWith(".py")
                || !request.pyFiles().isEmpty()
                || !request.conf().getOrDefault("spark.submit.pyFiles", "").isBlank();
    }

    /**
     * @throws InvalidBatchRequestException when the request runs Python and {@code sparkHome} cannot
     */
    public static void check(Path sparkHome, BatchRequest request) {
        if (isPython(request) && !Files.isRegularFile(sparkHome.resolve(PYSPARK_ZIP))) {
            String what = request.file().toLowerCase(Locale.ROOT).endsWith(".py")
                    ? "'file' is a Python application" : "'pyFiles' asks for Python";
            throw new InvalidBatchRequestException(what + ", but the Spark home " + sparkHome + " has no "
                    + PYSPARK_ZIP + " (Sparkgate's embedded Spark has no Python side): set SPARK_HOME (or "
                    + "sparkgate.spark.home) to a Spark distribution to run PySpark batches");
        }
    }
}

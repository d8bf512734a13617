package io.sparkgate.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Times every call of an interface (the batch store, the ResourceManager client) and counts the ones that
 * throw, tagged by method name: a bounded label set, and a method added to the interface later is timed
 * too without anyone remembering to. A dynamic proxy costs well under a microsecond, against a JDBC
 * query's tens or an RPC's milliseconds.
 */
final class TimedCalls implements InvocationHandler {

    private final Object target;
    private final MeterRegistry registry;
    private final String timerName;
    private final String timerDescription;
    private final String errorName;
    private final String tagKey;
    private final Predicate<Throwable> isError;
    private final Set<String> untimed;
    private final Map<Method, Meters> meters = new ConcurrentHashMap<>();

    private record Meters(Timer timer, Counter errors) {}

    private TimedCalls(Object target, MeterRegistry registry, String timerName, String timerDescription,
                       String errorName, String tagKey, Predicate<Throwable> isError, Set<String> untimed) {
        this.target = target;
        this.registry = registry;
        this.timerName = timerName;
        this.timerDescription = timerDescription;
        this.errorName = errorName;
        this.tagKey = tagKey;
        this.isError = isError;
        this.untimed = untimed;
    }

    /**
     * @param isError which exceptions count as errors (an expected outcome, like a taken request id, does not)
     * @param untimed methods passed through untimed (close, ...)
     */
    static <T> T wrap(Class<T> type, T target, MeterRegistry registry, String timerName, String timerDescription,
                      String errorName, String tagKey, Predicate<Throwable> isError, Set<String> untimed) {
        TimedCalls handler = new TimedCalls(target, registry, timerName, timerDescription, errorName, tagKey,
                isError, untimed);
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class || untimed.contains(method.getName())) {
            return call(method, args);
        }
        Meters m = meters.computeIfAbsent(method, this::metersOf);
        long start = System.nanoTime();
        Object result;
        try {
            result = call(method, args);
        } catch (Throwable t) {
            failed(m, t);
            m.timer().record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            throw t;
        }
        if (result instanceof CompletionStage<?> later) {
            // An asynchronous call (a create waiting for its group commit) takes until its result is in.
            later.whenComplete((value, failure) -> {
                if (failure != null) {
                    failed(m, failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure);
                }
                m.timer().record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            });
        } else {
            m.timer().record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        return result;
    }

    private void failed(Meters m, Throwable t) {
        if (isError.test(t)) {
            m.errors().increment();
        }
    }

    /**
     * The tag of a method: its name, but the asynchronous variant {@code xLater} of a call {@code x} is
     * {@code x}, so a dashboard keeps one series whichever the caller used.
     */
    static String operation(Method method) {
        String name = method.getName();
        return name.endsWith(LATER) && name.length() > LATER.length()
                ? name.substring(0, name.length() - LATER.length()) : name;
    }

    private static final String LATER = "Later";

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private Meters metersOf(Method method) {
        String name = operation(method);
        return new Meters(
                Timer.builder(timerName).description(timerDescription).tag(tagKey, name)
                        .serviceLevelObjectives(ServerMetrics.FAST_BUCKETS).register(registry),
                Counter.builder(errorName).description("Calls that failed, by " + tagKey).tag(tagKey, name)
                        .register(registry));
    }
}

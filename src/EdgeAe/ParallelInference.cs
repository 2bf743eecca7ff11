using EdgeAe.Quantization;

namespace EdgeAe;

/// <summary>
/// Batch inference over many samples split across threads, for servers: one model instance per thread (a model
/// owns one workspace, so an instance serves one thread), the samples cut into contiguous ranges, one range per
/// instance. The degree of parallelism is explicit: the number of instances given. Every result is exactly the
/// sequential one — <see cref="EncodeBatch"/> cuts the same <see cref="ModelTopology.MaxBatchSize"/> blocks a
/// sequential pass cuts, and reconstruction and scores are per sample. The single-sample API on each model stays
/// single-threaded and allocation-free; these calls allocate a little per call (the thread scheduling).
/// </summary>
public static class ParallelInference
{
    /// <summary>
    /// <paramref name="model"/> and <paramref name="degreeOfParallelism"/> − 1 new instances from
    /// <paramref name="create"/> holding copies of its parameters: the instances the batch calls run on. An int8 model's
    /// instances (its <c>Int8</c> companion's) load the same <see cref="QuantizedParameters"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="degreeOfParallelism"/> is below 1.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="create"/> makes a model of another topology, or a float32 model for an int8 one (or the reverse).
    /// </exception>
    /// <exception cref="InvalidOperationException"><paramref name="model"/> is an int8 model with no parameters loaded.</exception>
    public static IReadOnlyList<IAutoencoder> Replicas(IAutoencoder model, Func<IAutoencoder> create, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        QuantizedParameters? int8 = null;
        if (model is IQuantizedAutoencoder quantized)
        {
            int8 = quantized.Quantization ?? throw new InvalidOperationException($"The int8 {model.Topology.Name} has no parameters loaded: load them before making replicas.");
        }

        var models = new IAutoencoder[degreeOfParallelism];
        models[0] = model;
        for (int i = 1; i < models.Length; i++)
        {
            IAutoencoder copy = create();
            bool sameKind = copy is IQuantizedAutoencoder == int8 is not null;
            if (copy is null || !sameKind || copy.Topology.ToString() != model.Topology.ToString() || (int8 is null && copy.Parameters.Length != model.Parameters.Length))
            {
                string made = copy is null ? "null" : $"{(copy is IQuantizedAutoencoder ? "an int8" : "a float32")} {copy.Topology}";
                throw new ArgumentException($"The factory made {made}, not a replica of the {(int8 is null ? "float32" : "int8")} {model.Topology}.", nameof(create));
            }

            if (int8 is not null)
            {
                ((IQuantizedAutoencoder)copy).Load(int8);
            }
            else
            {
                model.Parameters.CopyTo(copy.Parameters);
            }

            models[i] = copy;
        }

        return models;
    }

    /// <summary>
    /// Encodes <paramref name="inputs"/> (count × input width floats) into <paramref name="codes"/> (count × code
    /// width), in blocks of MaxBatchSize samples through each model's <see cref="IAutoencoder.EncodeBatch"/>, the
    /// blocks shared out among <paramref name="models"/> (one thread each).
    /// </summary>
    public static void EncodeBatch(IReadOnlyList<IAutoencoder> models, ReadOnlyMemory<float> inputs, Memory<float> codes)
    {
        ModelTopology topology = Check(models, inputs, out int count);
        int width = topology.InputSize, code = topology.CodeSize, block = topology.MaxBatchSize;
        CheckLength(codes.Length, count * code, nameof(codes));
        RunBlocks(models, count, block, (m, start, n) => m.EncodeBatch(inputs.Span.Slice(start * width, n * width), codes.Span.Slice(start * code, n * code)));
    }

    /// <summary>
    /// Reconstructs every sample of <paramref name="inputs"/> into <paramref name="outputs"/> (count × input width)
    /// with <see cref="IAutoencoder.Reconstruct"/>, its loss into <paramref name="losses"/> (count floats).
    /// </summary>
    public static void ReconstructBatch(IReadOnlyList<IAutoencoder> models, ReadOnlyMemory<float> inputs, Memory<float> outputs, Memory<float> losses)
    {
        ModelTopology topology = Check(models, inputs, out int count);
        int width = topology.InputSize;
        CheckLength(outputs.Length, count * width, nameof(outputs));
        CheckLength(losses.Length, count, nameof(losses));
        Run(models.Count, count, (model, first, end) =>
        {
            IAutoencoder m = models[model];
            for (int i = first; i < end; i++)
            {
                losses.Span[i] = m.Reconstruct(inputs.Span.Slice(i * width, width), outputs.Span.Slice(i * width, width));
            }
        });
    }

    /// <summary>
    /// The anomaly score (<see cref="IAutoencoder.Score"/>) of every sample of <paramref name="inputs"/> into
    /// <paramref name="scores"/> (count floats), in blocks of MaxBatchSize samples through each model's
    /// <see cref="IAutoencoder.ScoreBatch"/> (each score is the single-sample one bit for bit), the blocks shared out among
    /// <paramref name="models"/> (one thread each).
    /// </summary>
    public static void ScoreBatch(IReadOnlyList<IAutoencoder> models, ReadOnlyMemory<float> inputs, Memory<float> scores)
    {
        ModelTopology topology = Check(models, inputs, out int count);
        int width = topology.InputSize, block = topology.MaxBatchSize;
        CheckLength(scores.Length, count, nameof(scores));
        RunBlocks(models, count, block, (m, start, n) => m.ScoreBatch(inputs.Span.Slice(start * width, n * width), scores.Span.Slice(start, n)));
    }

    /// <summary>
    /// Cuts <paramref name="count"/> samples into blocks of <paramref name="block"/> (the last one shorter), the same blocks a
    /// sequential pass cuts, and shares the blocks out among <paramref name="models"/>: <c>work(model, start, n)</c> per block.
    /// </summary>
    private static void RunBlocks(IReadOnlyList<IAutoencoder> models, int count, int block, Action<IAutoencoder, int, int> work)
        => Run(models.Count, (count + block - 1) / block, (model, first, end) =>
        {
            for (int b = first; b < end; b++)
            {
                int start = b * block;
                work(models[model], start, Math.Min(block, count - start));
            }
        });

    /// <summary>
    /// Cuts <paramref name="units"/> into <paramref name="degree"/> contiguous ranges and runs range i as
    /// <c>work(i, first, end)</c>, at most <paramref name="degree"/> at once; the first exception is rethrown.
    /// </summary>
    internal static void Run(int degree, int units, Action<int, int, int> work)
    {
        int parts = Math.Min(degree, units);
        if (parts <= 1)
        {
            work(0, 0, units);
            return;
        }

        try
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, i =>
                work(i, (int)((long)units * i / parts), (int)((long)units * (i + 1) / parts)));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }

    private static ModelTopology Check(IReadOnlyList<IAutoencoder> models, ReadOnlyMemory<float> inputs, out int count)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
        {
            throw new ArgumentException("At least one model instance is needed (one per thread).", nameof(models));
        }

        ModelTopology topology = models[0].Topology;
        for (int i = 0; i < models.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(models[i], nameof(models));
            if (models[i].Topology.ToString() != topology.ToString() || models[i].Parameters.Length != models[0].Parameters.Length)
            {
                throw new ArgumentException($"Model instance {i} is {models[i].Topology}, not {topology} as instance 0.", nameof(models));
            }

            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(models[i], models[j]))
                {
                    throw new ArgumentException($"Model instances {j} and {i} are the same object; each thread needs its own instance (see Replicas).", nameof(models));
                }
            }
        }

        int width = topology.InputSize;
        if (inputs.Length % width != 0)
        {
            throw new ArgumentException($"The inputs hold {inputs.Length} floats, not a whole number of {width}-float samples.", nameof(inputs));
        }

        count = inputs.Length / width;
        return topology;
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected {expected} floats in '{name}' but found {actual}.", name);
        }
    }
}

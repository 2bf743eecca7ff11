using System.ComponentModel;

namespace EdgeAe;

/// <summary>
/// What one training thread owns for <see cref="IAutoencoder.AccumulateShardGradients"/>: a batch workspace and a
/// gradient buffer of one model type's sizes (made by <see cref="IAutoencoder.CreateWorker"/>). Several workers let
/// several threads run the batch backprop of one model at once against the same parameters; the data-parallel
/// trainer (docs/scale.md) keeps one per thread.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public sealed class TrainingWorker
{
    private AlignedBuffer _gradients;

    /// <summary>A worker with <paramref name="workspaceLength"/> workspace floats and <paramref name="parameterLength"/> gradient floats, zeroed.</summary>
    public TrainingWorker(int workspaceLength, int parameterLength)
    {
        Workspace = new AlignedBuffer(workspaceLength);
        _gradients = new AlignedBuffer(parameterLength);
    }

    /// <summary>The batch workspace (activations and deltas of every sample of a shard).</summary>
    public AlignedBuffer Workspace { get; }

    /// <summary>
    /// Gradients the worker's shards add to, laid out like the model's parameters. It may be pointed at another buffer
    /// of the same length between shards (the data-parallel trainer keeps one per shard, one workspace per thread).
    /// </summary>
    /// <exception cref="ArgumentException">The new buffer's length differs.</exception>
    public AlignedBuffer Gradients
    {
        get => _gradients;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != _gradients.Length)
            {
                throw new ArgumentException($"The gradient buffer holds {value.Length} floats; this worker's model needs {_gradients.Length}.", nameof(value));
            }

            _gradients = value;
        }
    }

    /// <summary>
    /// Throws unless <paramref name="worker"/> is a worker of a model with these sizes (generated models call it).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="worker"/> is null.</exception>
    /// <exception cref="ArgumentException">The worker was made for a model of other sizes.</exception>
    public static void Check(TrainingWorker worker, int workspaceLength, int parameterLength)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (worker.Workspace.Length != workspaceLength || worker.Gradients.Length != parameterLength)
        {
            throw new ArgumentException(
                $"The worker holds {worker.Workspace.Length} workspace and {worker.Gradients.Length} gradient floats but this model needs {workspaceLength} and {parameterLength}: make it with this model's CreateWorker().",
                nameof(worker));
        }
    }
}

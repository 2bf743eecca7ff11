using EdgeAe.Data;

namespace EdgeAe.Training;

/// <summary>
/// The order an epoch visits the samples in — one definition for data in memory and for a <see cref="DataCache"/>.
/// The samples are cut into blocks of consecutive samples; each epoch the blocks are permuted (Fisher–Yates), taken a
/// window of W blocks at a time, and the samples of each window are permuted (Fisher–Yates): a sample's neighbours in
/// the order come from W random blocks of the file, never from far outside its window, so reading a window touches W
/// blocks. When one window holds every sample there are no blocks: the epoch is one Fisher–Yates over all samples, as
/// it always was. The order array carries over from epoch to epoch (each epoch permutes the previous one).
/// </summary>
internal sealed class SampleOrder
{
    private readonly int[] _order;
    private readonly int[]? _blocks;
    private readonly int _blockSamples;
    private readonly int _windowBlocks;

    /// <summary>An order over <paramref name="count"/> samples, identity until the first <see cref="Shuffle"/>.</summary>
    /// <param name="count">Samples.</param>
    /// <param name="blockSamples">Samples per block (≥ 1).</param>
    /// <param name="windowSamples">Samples per window, rounded down to whole blocks (at least one block); as many as there are samples, or more: one window.</param>
    public SampleOrder(int count, int blockSamples, int windowSamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSamples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowSamples);
        _order = new int[count];
        for (int i = 0; i < count; i++)
        {
            _order[i] = i;
        }

        _blockSamples = blockSamples;
        _windowBlocks = Math.Max(1, windowSamples / blockSamples);
        int blocks = (int)(((long)count + blockSamples - 1) / blockSamples);
        if (windowSamples < count && blocks > _windowBlocks)
        {
            _blocks = new int[blocks];
            for (int b = 0; b < blocks; b++)
            {
                _blocks[b] = b;
            }
        }
    }

    /// <summary>Whether the data is read one window at a time (false: one window holds every sample).</summary>
    public bool Windowed => _blocks is not null;

    /// <summary>Samples per window (whole blocks), or every sample.</summary>
    public int WindowSamples => _blocks is null ? _order.Length : _windowBlocks * _blockSamples;

    /// <summary>The sample indices in visiting order.</summary>
    public int[] Indices => _order;

    /// <summary>The next epoch's order.</summary>
    public void Shuffle(ref SplitMix64 random)
    {
        if (_blocks is null)
        {
            random.Shuffle<int>(_order);
            return;
        }

        random.Shuffle<int>(_blocks);
        int count = _order.Length;
        int position = 0;
        for (int w = 0; w < _blocks.Length; w += _windowBlocks)
        {
            int start = position;
            for (int k = w; k < Math.Min(w + _windowBlocks, _blocks.Length); k++)
            {
                int first = _blocks[k] * _blockSamples;
                int end = Math.Min(count, first + _blockSamples);
                for (int i = first; i < end; i++)
                {
                    _order[position++] = i;
                }
            }

            random.Shuffle(_order.AsSpan(start, position - start));
        }
    }
}

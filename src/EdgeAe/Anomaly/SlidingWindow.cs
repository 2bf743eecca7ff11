namespace EdgeAe.Anomaly;

/// <summary>
/// The last <see cref="Frames"/> frames of <see cref="FrameWidth"/> features, oldest first, as one contiguous model
/// input of Frames × FrameWidth floats — without moving the window when a frame arrives. The ring keeps every frame
/// twice (at slot s and s + Frames of a buffer twice the window's length), so the newest Frames frames are always one
/// contiguous stretch: <see cref="Push"/> writes 2 × FrameWidth floats, <see cref="Current"/> is a view. Allocates only
/// in the constructor. The firmware flavour generates the same ring as <c>Model.Window</c>.
/// </summary>
public sealed class SlidingWindow
{
    private readonly float[] _ring;
    private int _next;
    private long _pushed;

    /// <summary>Creates an empty window of <paramref name="frames"/> frames of <paramref name="frameWidth"/> features.</summary>
    public SlidingWindow(int frames, int frameWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frameWidth);
        Frames = frames;
        FrameWidth = frameWidth;
        _ring = new float[checked(2 * frames * frameWidth)];
    }

    /// <summary>Frames per window (F).</summary>
    public int Frames { get; }

    /// <summary>Features per frame (D).</summary>
    public int FrameWidth { get; }

    /// <summary>Floats in a window: F × D, the model's input width.</summary>
    public int Length => Frames * FrameWidth;

    /// <summary>Frames pushed since construction or <see cref="Clear"/>.</summary>
    public long Pushed => _pushed;

    /// <summary>True once F frames have arrived (before that, <see cref="Current"/> is not a full window).</summary>
    public bool IsFull => _pushed >= Frames;

    /// <summary>Appends a frame of <see cref="FrameWidth"/> floats, dropping the oldest. Allocates nothing.</summary>
    public void Push(ReadOnlySpan<float> frame)
    {
        if (frame.Length != FrameWidth)
        {
            throw new ArgumentException($"Expected {FrameWidth} floats in 'frame' but found {frame.Length}.", nameof(frame));
        }

        frame.CopyTo(_ring.AsSpan(_next * FrameWidth, FrameWidth));
        frame.CopyTo(_ring.AsSpan((_next + Frames) * FrameWidth, FrameWidth));
        _next = _next + 1 == Frames ? 0 : _next + 1;
        _pushed++;
    }

    /// <summary>The last F frames, oldest first (a view into the ring, valid until the next <see cref="Push"/>).</summary>
    /// <exception cref="InvalidOperationException">Fewer than F frames have been pushed.</exception>
    public ReadOnlySpan<float> Current
    {
        get
        {
            if (!IsFull)
            {
                throw new InvalidOperationException($"The window holds {_pushed} of {Frames} frames; wait until IsFull.");
            }

            // The oldest frame sits in slot _next; its copy _next + F … continues with the newer ones.
            return _ring.AsSpan(_next * FrameWidth, Length);
        }
    }

    /// <summary>Forgets every frame.</summary>
    public void Clear()
    {
        Array.Clear(_ring);
        _next = 0;
        _pushed = 0;
    }
}

/// <summary>
/// Turns per-window decisions into alarms: <see cref="Vote"/> raises an alarm when at least k of the last n windows
/// were above the threshold; <see cref="Ema"/> when an exponential moving average of the score is. Allocation-free
/// after construction; the firmware flavour generates the same logic as <c>Model.Smoother</c>.
/// </summary>
public sealed class DecisionSmoother
{
    private readonly int _k;
    private readonly int _n;
    private readonly float _alpha;
    private readonly float _threshold;
    private ulong _history;
    private int _seen;
    private float _average;

    private DecisionSmoother(int k, int n, float alpha, float threshold)
    {
        _k = k;
        _n = n;
        _alpha = alpha;
        _threshold = threshold;
    }

    /// <summary>k of the last n windows (1 ≤ k ≤ n ≤ 64) above <paramref name="threshold"/>.</summary>
    public static DecisionSmoother Vote(int k, int n, float threshold)
    {
        if (n is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The vote window n must be between 1 and 64.");
        }

        if (k < 1 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"The vote count k must be between 1 and n = {n}.");
        }

        return new DecisionSmoother(k, n, 0f, CheckThreshold(threshold));
    }

    /// <summary>Average ← average + α·(score − average), starting at the first score; alarm when the average is above <paramref name="threshold"/>.</summary>
    public static DecisionSmoother Ema(float alpha, float threshold)
    {
        if (!(alpha > 0f && alpha <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The smoothing factor α must be in (0, 1].");
        }

        return new DecisionSmoother(0, 0, alpha, CheckThreshold(threshold));
    }

    /// <summary>True for a k-of-n vote, false for an EMA.</summary>
    public bool IsVote => _n > 0;

    /// <summary>The EMA of the scores so far (the last score for a vote).</summary>
    public float Average => _average;

    /// <summary>Feeds one window's score; returns whether the alarm is raised after it. Allocates nothing.</summary>
    public bool Add(float score)
    {
        if (IsVote)
        {
            _average = score;
            ulong mask = _n == 64 ? ulong.MaxValue : (1UL << _n) - 1;
            _history = ((_history << 1) | (score > _threshold ? 1UL : 0UL)) & mask;
            _seen++;
            return System.Numerics.BitOperations.PopCount(_history) >= _k;
        }

        _average = _seen == 0 ? score : _average + (_alpha * (score - _average));
        _seen++;
        return _average > _threshold;
    }

    /// <summary>Forgets the history.</summary>
    public void Reset()
    {
        _history = 0;
        _seen = 0;
        _average = 0f;
    }

    private static float CheckThreshold(float threshold)
        => float.IsFinite(threshold) ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be finite.");
}

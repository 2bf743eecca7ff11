namespace VibrationAnomaly;

/// <summary>A fault injected into the synthetic signal from <see cref="Start"/> to <see cref="End"/> (seconds).</summary>
public sealed record Fault(string Name, double Start, double End);

/// <summary>
/// A SYNTHETIC accelerometer signal of a rotating shaft (no real machine was measured): the shaft frequency (29.5 Hz,
/// wandering ±1 % over a minute) with its 2nd and 3rd harmonics and Gaussian noise, sampled at 2,048 Hz. Three faults can
/// be injected, each with the textbook signature:
/// <list type="bullet">
/// <item><c>bearing</c>: an outer-race defect — an impulse train at the ball-pass frequency (3.58 × shaft) whose
/// impulses ring a 700 Hz structural resonance (decay 2 ms);</item>
/// <item><c>imbalance</c>: the 1× component grows 2.5-fold;</item>
/// <item><c>looseness</c>: harmonics up to 10× and half orders (0.5×, 1.5×, …) appear.</item>
/// </list>
/// Deterministic for a seed.
/// </summary>
public sealed class VibrationSignal
{
    public const double SampleRate = 2048;
    public const double ShaftHz = 29.5;
    public const double BallPassRatio = 3.58;
    public const double ResonanceHz = 700;
    public const double NoiseSigma = 0.5;

    private readonly Random _random;
    private readonly Fault[] _faults;
    private double _phase;
    private long _n;
    private double _lastImpulse = double.NegativeInfinity;

    public VibrationSignal(int seed, params Fault[] faults)
    {
        _random = new Random(seed);
        _faults = faults;
    }

    /// <summary>Seconds of signal produced so far.</summary>
    public double Time => _n / SampleRate;

    /// <summary>The fault active at <paramref name="time"/>, or null.</summary>
    public string? FaultAt(double time) => _faults.FirstOrDefault(f => time >= f.Start && time < f.End)?.Name;

    /// <summary>Fills <paramref name="samples"/> with the next samples.</summary>
    public void Next(Span<float> samples)
    {
        for (int i = 0; i < samples.Length; i++, _n++)
        {
            double t = _n / SampleRate;
            double shaft = ShaftHz * (1 + (0.01 * Math.Sin(2 * Math.PI * t / 60)));
            _phase += 2 * Math.PI * shaft / SampleRate;
            string? fault = FaultAt(t);
            double one = fault == "imbalance" ? 2.5 : 1.0;
            double x = (one * Math.Sin(_phase)) + (0.3 * Math.Sin((2 * _phase) + 0.4)) + (0.15 * Math.Sin((3 * _phase) + 1.1));
            if (fault == "looseness")
            {
                for (int h = 4; h <= 10; h++)
                {
                    x += 0.25 * Math.Sin((h * _phase) + h);
                }

                for (int h = 1; h <= 19; h += 2)
                {
                    x += 0.15 * Math.Sin((0.5 * h * _phase) + h);
                }
            }

            if (fault == "bearing")
            {
                double period = 1 / (BallPassRatio * shaft);
                if (t - _lastImpulse >= period)
                {
                    _lastImpulse = t;
                }

                double since = t - _lastImpulse;
                x += 1.5 * Math.Exp(-since / 0.002) * Math.Sin(2 * Math.PI * ResonanceHz * since);
            }

            samples[i] = (float)(x + (NoiseSigma * Gaussian()));
        }
    }

    private double Gaussian()
    {
        double u = 1 - _random.NextDouble(), v = _random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }
}

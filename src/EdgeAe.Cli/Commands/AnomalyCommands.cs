using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeAe.Anomaly;
using EdgeAe.Cli.Files;
using EdgeAe.Data;
using EdgeAe.IO;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EdgeAe.Cli.Commands;

/// <summary>What the anomaly commands share: output checks and JSON writing.</summary>
internal static class AnomalyCli
{
    /// <summary>The labels of <paramref name="path"/>, checked against the number of samples.</summary>
    public static int[] ReadLabels(string path, int samples)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"labels file not found: {path}");
        }

        int[] labels = LabelFile.Read(path);
        if (labels.Length != samples)
        {
            throw new CliException($"{path} has {labels.Length} labels but the data has {samples} samples; give one 0/1 label per sample");
        }

        return labels;
    }

    /// <summary>Writes one JSON object through <paramref name="write"/> as one line.</summary>
    public static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

internal sealed class CalibrateSettings : WeightsSettings
{
    [CommandOption("--method <METHOD>")]
    [Description("percentile:P (e.g. 99.5) | meanstd:K | gamma:Q (DCASE: gamma fit, Q-quantile) | fpr:R (needs --labels).")]
    public string? Method { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("The calibrated weight file to write (a copy of --weights with the threshold; never --weights itself).")]
    public string? Out { get; set; }

    [CommandOption("--labels <FILE>")]
    [Description("One 0/1 label per sample: fpr:R uses both classes, the other methods only the samples labelled 0.")]
    public string? Labels { get; set; }

    public override IEnumerable<FileArgument> Files =>
        [.. base.Files, FileArgument.Input("--labels", Labels, "labels file"), FileArgument.Output("--out", Out, "weight file")];

    [CommandOption("--validation-split <FRACTION>")]
    [Description("Calibrate on the validation rows that train --validation-split FRACTION --seed N held out of this same --data (the split is seeded and depends only on the row count).")]
    public string? ValidationSplit { get; set; }

    [CommandOption("--seed <N>")]
    [Description("With --validation-split: the seed train used; default 1.")]
    public int? Seed { get; set; }

    public double? ParsedValidationSplit { get; private set; }

    public CalibrationMethod ParsedMethod { get; private set; } = new(CalibrationKind.Manual, 0);

    public override ValidationResult Validate()
    {
        if (Method is null)
        {
            return ValidationResult.Error("--method <METHOD> is required (percentile:P, meanstd:K, gamma:Q or fpr:R)");
        }

        if (Out is null)
        {
            return ValidationResult.Error("--out <FILE> is required (the calibrated weight file)");
        }

        try
        {
            ParsedMethod = CalibrationMethod.Parse(Method);
        }
        catch (ArgumentException e)
        {
            return ValidationResult.Error($"invalid value '{Method}' for --method: {e.Message.Replace(" (Parameter 'text')", string.Empty, StringComparison.Ordinal)}");
        }

        if (ValidationSplit is not null)
        {
            if (!double.TryParse(ValidationSplit, NumberStyles.Float, CultureInfo.InvariantCulture, out double split) || !(split > 0 && split < 1))
            {
                return Invalid("--validation-split", ValidationSplit, "expected a fraction between 0 and 1, exclusive");
            }

            if (Labels is not null)
            {
                return ValidationResult.Error("--validation-split and --labels exclude each other");
            }

            ParsedValidationSplit = split;
        }

        if (Seed is not null && ValidationSplit is null)
        {
            return ValidationResult.Error("--seed goes with --validation-split (it is the seed of train's split)");
        }

        if (ParsedMethod.Kind == CalibrationKind.FalseAlarmRate && Labels is null)
        {
            return ValidationResult.Error("--method fpr:R needs --labels (the false-alarm rate is measured on the samples labelled 0)");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae calibrate</c>: scores the data with the model, chooses the anomaly threshold by the method and writes a copy
/// of the weight file with it in the <c>anom</c> section (docs/anomaly.md).
/// </summary>
internal sealed class CalibrateCommand(CliEnvironment environment) : EdgeAeCommand<CalibrateSettings>(environment)
{
    protected override int Run(CalibrateSettings settings, CancellationToken cancellationToken)
    {
        using LoadedModel loaded = settings.Load(Environment);
        (ModelHandle handle, IAutoencoder model, _, ISampleSource data, string dataName, _) = loaded;
        if (settings.ParsedValidationSplit is { } fraction)
        {
            if (data is not Dataset all)
            {
                // train refuses to split a cache too: its validation data is a cache (or file) of its own.
                throw CliException.Usage($"--validation-split cannot split the .f32 cache {settings.Data} (train does not split caches either): give the validation data train was given with --validation as --data");
            }

            if (all.Count < 2)
            {
                throw new CliException($"{dataName} has {all.Count} sample(s): too few to split off validation data");
            }

            // The rows train held out: DatasetSplit depends only on the row count, the fraction and the seed.
            (_, data) = DatasetSplit.TrainValidation(all, fraction, settings.Seed ?? 1);
        }

        float[] scores = AnomalyScore.ScoreAll(model, data);
        int[]? labels = settings.Labels is null ? null : AnomalyCli.ReadLabels(settings.Labels, data.Count);
        CalibrationMethod method = settings.ParsedMethod;
        AnomalyThreshold threshold;
        if (method.Kind == CalibrationKind.FalseAlarmRate)
        {
            threshold = Calibration.FromFalseAlarmRate(scores, labels!, method.Parameter);
        }
        else
        {
            float[] normal = labels is null ? scores : scores.Where((_, i) => labels[i] == 0).ToArray();
            threshold = Calibration.FromNormalScores(normal, method);
        }

        OutputFile.CreateFolderOf(settings.Out!);
        WeightFile.SaveWithThreshold(settings.Weights!, settings.Out!, threshold);
        int normalCount = labels is null ? scores.Length : labels.Count(l => l == 0);
        int above = scores.Where((s, i) => (labels is null || labels[i] == 0) && threshold.IsAnomaly(s)).Count();
        string outPath = Path.GetFullPath(settings.Out!);
        if (settings.Json)
        {
            Environment.WriteJson(AnomalyCli.Json(j =>
            {
                j.WriteNumber("threshold", threshold.Threshold);
                j.WriteString("method", method.ToString());
                j.WriteNumber("samples", threshold.SampleCount);
                j.WriteNumber("normal_above_threshold", above);
                j.WriteNumber("normal_false_alarm_rate", normalCount == 0 ? 0 : (double)above / normalCount);
                j.WriteString("out", outPath);
            }));
        }
        else
        {
            Environment.Line($"{handle.Name} {handle.Topology} with {settings.Weights}: scored {data.Count} samples of {dataName}{(labels is null ? " (all taken as normal)" : $" ({normalCount} labelled normal)")}");
            Environment.Line(FormattableString.Invariant($"threshold {threshold.Threshold:G9} by {method} on {threshold.SampleCount} scores; {above} of {normalCount} normal scores lie above it ({(normalCount == 0 ? 0 : 100.0 * above / normalCount):F2} %)"));
            Environment.Line($"weights with the threshold: {outPath}");
        }

        return CommandLine.Success;
    }
}

internal sealed class DetectSettings : WeightsSettings
{
    [CommandOption("--window <FRAMES>")]
    [Description("Each data row is one frame of InputSize/FRAMES features; every window of the last FRAMES frames is scored (step one frame).")]
    public int? Window { get; set; }

    [CommandOption("--vote <K/N>")]
    [Description("Raise an alarm when K of the last N windows are above the threshold, e.g. 3/5 (N ≤ 64).")]
    public string? Vote { get; set; }

    [CommandOption("--ema <ALPHA>")]
    [Description("Raise an alarm when the exponential moving average of the score (factor ALPHA in (0, 1]]) is above the threshold.")]
    public string? Ema { get; set; }

    [CommandOption("--threshold <SCORE>")]
    [Description("Use this threshold instead of the one the weight file stores (edgeae calibrate).")]
    public string? Threshold { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Write the CSV (or JSON) there instead of to the standard output.")]
    public string? Out { get; set; }

    public override IEnumerable<FileArgument> Files => [.. base.Files, FileArgument.Output("--out", Out, "scores file")];

    public (int K, int N)? ParsedVote { get; private set; }

    public float? ParsedEma { get; private set; }

    public float? ParsedThreshold { get; private set; }

    public override ValidationResult Validate()
    {
        if (Window is <= 0)
        {
            return Invalid("--window", Window.Value.ToString(CultureInfo.InvariantCulture), "expected a positive number of frames");
        }

        if (Vote is not null)
        {
            string[] parts = Vote.Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || k < 1 || k > n || n > 64)
            {
                return Invalid("--vote", Vote, "expected K/N with 1 ≤ K ≤ N ≤ 64, e.g. 3/5");
            }

            ParsedVote = (k, n);
        }

        if (Ema is not null)
        {
            if (!TryParseFloat(Ema, out float alpha) || !(alpha > 0 && alpha <= 1))
            {
                return Invalid("--ema", Ema, "expected a smoothing factor in (0, 1]");
            }

            ParsedEma = alpha;
        }

        if (Vote is not null && Ema is not null)
        {
            return ValidationResult.Error("--vote and --ema exclude each other");
        }

        if (Threshold is not null)
        {
            if (!TryParseFloat(Threshold, out float t))
            {
                return Invalid("--threshold", Threshold, "expected a finite number");
            }

            ParsedThreshold = t;
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>edgeae detect</c>: the score and the decision for every sample, or for every window of a stream of frames, with an
/// optional k-of-n vote or EMA smoother; CSV or <c>--json</c>.
/// </summary>
internal sealed class DetectCommand(CliEnvironment environment) : EdgeAeCommand<DetectSettings>(environment)
{
    /// <summary>Characters of CSV collected before they are written.</summary>
    private const int CsvChunk = 1 << 16;

    protected override int Run(DetectSettings settings, CancellationToken cancellationToken)
    {
        // Without --out the rows are the standard output: notes (a header taken, a declaration compiled) go to standard error.
        Environment.ResultOnStandardOutput = settings.Out is null;
        if (!File.Exists(settings.Weights))
        {
            throw new CliException($"weight file not found: {settings.Weights}");
        }

        ModelHandle handle = ModelHandle.Resolve(settings.Model, Environment);
        IAutoencoder model = handle.CreateFor(settings.Weights!);
        Normalization normalization = WeightFile.Load(settings.Weights!, model);
        float threshold = settings.ParsedThreshold
            ?? WeightFile.ReadThreshold(settings.Weights!)?.Threshold
            ?? throw new CliException($"{settings.Weights} has no anomaly threshold: run edgeae calibrate first, or pass --threshold");
        int inputSize = handle.Topology.InputSize;
        int frames = settings.Window ?? 1;
        if (inputSize % frames != 0)
        {
            throw new CliException($"--window {frames} does not divide {handle.Name}'s {inputSize} inputs into whole frames");
        }

        int frameWidth = inputSize / frames;
        using DetectData data = Open(settings, handle, normalization, frames, frameWidth);
        if (data.Rows.Count < frames)
        {
            throw new CliException($"{data.Name} has {data.Rows.Count} rows, fewer than one window of {frames} frames");
        }

        DecisionSmoother? smoother = settings.ParsedVote is { } v ? DecisionSmoother.Vote(v.K, v.N, threshold)
            : settings.ParsedEma is { } a ? DecisionSmoother.Ema(a, threshold) : null;
        bool windows = settings.Window is not null;
        var counts = new DetectCounts();
        if (settings.Json)
        {
            // The JSON object names its counts before its rows, so it is built whole; CSV is written as the rows are scored.
            var rows = new List<DetectRow>();
            Score(model, data, normalization, frames, threshold, smoother, rows.Add);
            counts = new DetectCounts(rows.Count, rows.Count(r => r.Anomaly), rows.Count(r => r.Alarm == true));
            Write(settings, writer => writer.Write(Json(rows, threshold, settings, smoother)));
        }
        else
        {
            Write(settings, writer =>
            {
                // Rows go out in chunks: the standard output flushes every write.
                var chunk = new StringBuilder(windows ? "window,first_row,last_row,score,anomaly" : "row,score,anomaly");
                chunk.Append(smoother is not null ? ",alarm\n" : "\n");
                counts = new DetectCounts();
                Score(model, data, normalization, frames, threshold, smoother, row =>
                {
                    AppendCsv(chunk, counts.Windows, row, windows, smoother is not null);
                    counts = counts.Add(row);
                    if (chunk.Length >= CsvChunk)
                    {
                        writer.Write(chunk);
                        chunk.Clear();
                    }
                });
                writer.Write(chunk);
            });
        }

        if (settings.Out is not null)
        {
            Environment.Error.WriteLine(FormattableString.Invariant($"{counts.Windows} {(windows ? "windows" : "samples")} scored, {counts.Anomalies} above the threshold {threshold:G9}{(smoother is null ? "" : $", {counts.Alarms} with the alarm raised")} → {Path.GetFullPath(settings.Out)}"));
        }

        return CommandLine.Success;
    }

    /// <summary>The rows (frames, or whole samples without --window) of --data: a CSV/IDX file in its own units, or a .f32 cache.</summary>
    private DetectData Open(DetectSettings settings, ModelHandle handle, Normalization normalization, int frames, int frameWidth)
    {
        int inputSize = handle.Topology.InputSize;
        string takes = settings.Window is null
            ? FormattableString.Invariant($"{handle.Name} takes {inputSize}")
            : FormattableString.Invariant($"a frame of --window {frames} is {frameWidth} values ({inputSize} inputs / {frames} frames)");
        if (settings.Data is { } path && File.Exists(path) && DataCache.IsCache(path))
        {
            // A cache holds normalised rows. Normalisations work feature by feature, so frames normalised one by one form the
            // window the weight file's normalisation would give when it is the cache's, once per frame.
            if (settings.Window is null)
            {
                return new DetectData(DataLoader.OpenCache(path, "--data", settings.DataOptions, handle, settings.Weights!, normalization), Path.GetFileName(path), Normalized: true);
            }

            DataCache cache = DataLoader.OpenCache(path, "--data", settings.DataOptions, frameWidth, takes);
            if (!DataLoader.Repeat(cache.Normalization, frames).Equals(normalization))
            {
                cache.Dispose();
                throw new CliException($"--data {Path.GetFileName(path)} was prepared with the normalisation {DataLoader.Describe(cache.Normalization)} per frame, but --weights {settings.Weights} normalises windows of {frames} frames with {DataLoader.Describe(normalization)}: prepare the frames so that their normalisation, repeated for every frame, is the weight file's (one --scale for all features, or none), or give the CSV/IDX file");
            }

            return new DetectData(cache, Path.GetFileName(path), Normalized: true);
        }

        RawData raw = DataLoader.Load(settings.Data, settings.DataOptions, handle, Environment);
        if (raw.Data.Width != frameWidth)
        {
            throw new CliException(settings.Window is null
                ? $"{raw.Name} has {raw.Data.Width} values per sample but {handle.Name} takes {inputSize} inputs"
                : $"{raw.Name} has {raw.Data.Width} values per row but {takes}");
        }

        return new DetectData(raw.Data, raw.Name, Normalized: false);
    }

    /// <summary>
    /// Scores every window of the rows in order, a model batch at a time (ScoreBatch: each score is Score's bit for bit), and
    /// passes each scored window to <paramref name="take"/>.
    /// </summary>
    private static void Score(IAutoencoder model, DetectData data, Normalization normalization, int frames, float threshold, DecisionSmoother? smoother, Action<DetectRow> take)
    {
        int inputSize = model.Topology.InputSize;
        var window = new SlidingWindow(frames, inputSize / frames);
        int block = model.Topology.MaxBatchSize;
        var inputs = new float[block * inputSize];
        var scores = new float[block];
        var lastRows = new int[block];
        int pending = 0;
        void Flush()
        {
            model.ScoreBatch(inputs.AsSpan(0, pending * inputSize), scores.AsSpan(0, pending));
            for (int k = 0; k < pending; k++)
            {
                float score = scores[k];
                take(new DetectRow(lastRows[k] - frames + 1, lastRows[k], score, score > threshold, smoother?.Add(score)));
            }

            pending = 0;
        }

        ISampleSource rows = data.Rows;
        for (int row = 0; row < rows.Count; row++)
        {
            window.Push(rows[row]);
            if (!window.IsFull)
            {
                continue;
            }

            Span<float> input = inputs.AsSpan(pending * inputSize, inputSize);
            window.Current.CopyTo(input);
            if (!data.Normalized && normalization.Kind != NormalizationKind.None)
            {
                normalization.Apply(input);
            }

            lastRows[pending++] = row;
            if (pending == block)
            {
                Flush();
            }
        }

        if (pending > 0)
        {
            Flush();
        }
    }

    /// <summary>Writes through <paramref name="write"/> to --out (atomically) or to the standard output.</summary>
    private void Write(DetectSettings settings, Action<TextWriter> write)
    {
        if (settings.Out is null)
        {
            write(Environment.OutputConsole.Profile.Out.Writer);
        }
        else
        {
            OutputFile.WriteText(Path.GetFullPath(settings.Out), write);
        }
    }

    private static void AppendCsv(StringBuilder text, int index, DetectRow r, bool windows, bool smoothed)
    {
        text.Append(windows ? FormattableString.Invariant($"{index},{r.First},{r.Last},") : FormattableString.Invariant($"{r.Last},"));
        text.Append(r.Score.ToString("R", CultureInfo.InvariantCulture)).Append(r.Anomaly ? ",1" : ",0");
        text.Append(smoothed ? (r.Alarm == true ? ",1\n" : ",0\n") : "\n");
    }

    private static string Json(List<DetectRow> rows, float threshold, DetectSettings settings, DecisionSmoother? smoother)
        => AnomalyCli.Json(j =>
        {
            j.WriteNumber("threshold", threshold);
            j.WriteNumber("frames", settings.Window ?? 1);
            if (settings.ParsedVote is { } v)
            {
                j.WriteString("vote", FormattableString.Invariant($"{v.K}/{v.N}"));
            }

            if (settings.ParsedEma is { } a)
            {
                j.WriteNumber("ema", a);
            }

            j.WriteNumber("count", rows.Count);
            j.WriteNumber("anomalies", rows.Count(r => r.Anomaly));
            if (smoother is not null)
            {
                j.WriteNumber("alarms", rows.Count(r => r.Alarm == true));
            }

            j.WriteStartArray("rows");
            foreach (var r in rows)
            {
                j.WriteStartObject();
                j.WriteNumber("first_row", r.First);
                j.WriteNumber("last_row", r.Last);
                j.WriteNumber("score", r.Score);
                j.WriteBoolean("anomaly", r.Anomaly);
                if (r.Alarm is { } alarm)
                {
                    j.WriteBoolean("alarm", alarm);
                }

                j.WriteEndObject();
            }

            j.WriteEndArray();
        });
}

/// <summary>One scored window: its first and last data row, score, decision and (with a smoother) alarm.</summary>
internal readonly record struct DetectRow(int First, int Last, float Score, bool Anomaly, bool? Alarm);

/// <summary>Windows scored, those above the threshold, and those with the alarm raised.</summary>
internal readonly record struct DetectCounts(int Windows, int Anomalies, int Alarms)
{
    public DetectCounts Add(DetectRow row) => new(Windows + 1, Anomalies + (row.Anomaly ? 1 : 0), Alarms + (row.Alarm == true ? 1 : 0));
}

/// <summary>The rows detect reads (frames, or samples), whether they are normalised already (a cache), and their name.</summary>
internal sealed record DetectData(ISampleSource Rows, string Name, bool Normalized) : IDisposable
{
    public void Dispose() => (Rows as IDisposable)?.Dispose();
}

/// <summary><c>edgeae eval --labels</c>: detection quality of a weight file on labelled data (docs/anomaly.md).</summary>
internal static class AnomalyEvaluation
{
    public static int Run(CliEnvironment environment, EvalSettings settings)
    {
        // The plot files were checked with the command's other files (EvalSettings.Files) before any work.
        (string Roc, string Scores)? plots = settings.PlotPaths;
        if (plots is not null)
        {
            Plots.EnsureFonts();
        }

        using LoadedModel loaded = settings.Load(environment);
        (ModelHandle handle, IAutoencoder model, _, ISampleSource data, string dataName, _) = loaded;
        int[] labels = AnomalyCli.ReadLabels(settings.Labels!, data.Count);
        float[] scores = AnomalyScore.ScoreAll(model, data);
        AnomalyThreshold? threshold = WeightFile.ReadThreshold(settings.Weights!);
        RocPoint[] curve = DetectionMetrics.RocCurve(scores, labels);
        double auc = DetectionMetrics.RocAuc(scores, labels);
        double pauc = DetectionMetrics.PartialRocAuc(scores, labels, DetectionMetrics.DefaultMaxFalsePositiveRate);
        Confusion? confusion = threshold is null ? null : DetectionMetrics.At(scores, labels, threshold.Threshold);
        string scoreName = handle.Topology.Loss == LossKind.BinaryCrossEntropy ? "score (mean BCE per element)" : "score (MSE per element)";
        if (plots is { } files)
        {
            AnomalyPlots.Roc(files.Roc, curve, auc, pauc, DetectionMetrics.DefaultMaxFalsePositiveRate);
            AnomalyPlots.Scores(files.Scores, scores, labels, threshold?.Threshold, scoreName);
        }

        int anomalous = labels.Sum();
        if (settings.Json)
        {
            environment.WriteJson(AnomalyCli.Json(j =>
            {
                j.WriteNumber("samples", data.Count);
                j.WriteNumber("normal", data.Count - anomalous);
                j.WriteNumber("anomalous", anomalous);
                j.WriteNumber("auc", auc);
                j.WriteNumber("pauc", pauc);
                j.WriteNumber("max_fpr", DetectionMetrics.DefaultMaxFalsePositiveRate);
                j.WriteNumber("mean_score", scores.Average(s => (double)s));
                if (threshold is not null && confusion is { } c)
                {
                    j.WriteNumber("threshold", threshold.Threshold);
                    j.WriteString("method", threshold.Method.ToString());
                    j.WriteNumber("precision", c.Precision);
                    j.WriteNumber("recall", c.Recall);
                    j.WriteNumber("f1", c.F1);
                    j.WriteNumber("false_positive_rate", c.FalsePositiveRate);
                    j.WriteNumber("tp", c.TruePositives);
                    j.WriteNumber("fp", c.FalsePositives);
                    j.WriteNumber("tn", c.TrueNegatives);
                    j.WriteNumber("fn", c.FalseNegatives);
                }
                else
                {
                    j.WriteNull("threshold");
                }

                if (plots is { } written)
                {
                    j.WriteString("roc_png", written.Roc);
                    j.WriteString("scores_png", written.Scores);
                }
            }));
            return CommandLine.Success;
        }

        environment.Line($"{handle.Name} {handle.Topology} with {settings.Weights} on {data.Count} samples of {dataName}: {data.Count - anomalous} normal, {anomalous} anomalous");
        environment.Line(FormattableString.Invariant($"ROC AUC {auc:F4}, partial AUC (FPR ≤ {DetectionMetrics.DefaultMaxFalsePositiveRate}, McClish) {pauc:F4}"));
        if (threshold is not null && confusion is { } k)
        {
            environment.Line(FormattableString.Invariant($"at the stored threshold {threshold.Threshold:G9} ({threshold.Method}): precision {k.Precision:F4}, recall {k.Recall:F4}, F1 {k.F1:F4}, false-positive rate {k.FalsePositiveRate:F4} (TP {k.TruePositives}, FP {k.FalsePositives}, TN {k.TrueNegatives}, FN {k.FalseNegatives})"));
        }
        else
        {
            environment.Line($"{settings.Weights} stores no threshold (edgeae calibrate): no precision, recall or F1");
        }

        if (plots is { } shown)
        {
            environment.Line($"plots: {shown.Roc}, {shown.Scores}");
        }

        return CommandLine.Success;
    }
}

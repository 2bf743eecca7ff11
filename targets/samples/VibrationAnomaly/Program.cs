using VibrationAnomaly;

// A SYNTHETIC signal (VibrationSignal.cs): one hour of stream with three five-minute faults.
Fault[] faults =
[
    new("bearing", 10 * 60, 15 * 60),
    new("imbalance", 25 * 60, 30 * 60),
    new("looseness", 40 * 60, 45 * 60),
];
Console.WriteLine("Streaming anomaly detection on a synthetic vibration signal (shaft harmonics + noise; faults injected at stated times).");
StreamReport report = VibrationPipeline.Run(trainingSeconds: 30 * 60, streamSeconds: 60 * 60, faults, epochs: 20, Console.Out);
Console.WriteLine($"{report.Windows} windows scored, vote {VibrationPipeline.VoteK}/{VibrationPipeline.VoteN}");
foreach (FaultDetection d in report.Faults)
{
    Console.WriteLine(d.DelaySeconds is { } delay
        ? $"{d.Fault.Name,-10} injected at {d.Fault.Start / 60:F0} min: detected after {delay:F2} s"
        : $"{d.Fault.Name,-10} injected at {d.Fault.Start / 60:F0} min: MISSED");
}

Console.WriteLine($"false alarms: {report.FalseAlarms} in {report.NormalHours:F2} h of normal signal ({report.FalseAlarmsPerHour:F2} per hour)");

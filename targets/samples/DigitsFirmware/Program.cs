using System.Diagnostics;

namespace DigitsFirmware
{
    /// <summary>
    /// What a device would run: encode one 8×8 digit (the first of the bundled UCI set, a 0) with the
    /// baked model and write its code and reconstruction loss to the debug output.
    /// </summary>
    public static class Program
    {
        // Raw pixels 0..16; the model was trained on pixels ÷ 16.
        private static readonly byte[] Pixels =
        {
            0, 0, 5, 13, 9, 1, 0, 0,
            0, 0, 13, 15, 10, 15, 5, 0,
            0, 3, 15, 2, 0, 11, 8, 0,
            0, 4, 12, 0, 0, 8, 8, 0,
            0, 5, 8, 0, 0, 9, 8, 0,
            0, 4, 11, 0, 1, 12, 7, 0,
            0, 2, 14, 5, 10, 12, 0, 0,
            0, 0, 6, 13, 10, 0, 0, 0,
        };

        public static void Main()
        {
            var input = new float[DigitsAe.InputSize];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = Pixels[i] / 16f;
            }

            var model = new DigitsAe();
            var code = new float[DigitsAe.CodeSize];
            var reconstruction = new float[DigitsAe.InputSize];
            model.Encode(input, code);
            float loss = model.Reconstruct(input, reconstruction);

            for (int i = 0; i < code.Length; i++)
            {
                Debug.WriteLine("code[" + i.ToString() + "] = " + code[i].ToString());
            }

            Debug.WriteLine("loss = " + loss.ToString());

            // The untrained twin learns on the device: a few SGD steps on the same digit.
            var learner = new UntrainedDigitsAe();
            for (int step = 0; step < 10; step++)
            {
                loss = learner.TrainStep(input, 0.1f);
            }

            Debug.WriteLine("untrained model after 10 steps: loss = " + loss.ToString());
        }
    }
}

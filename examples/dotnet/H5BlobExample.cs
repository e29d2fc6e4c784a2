// h5blob from C# (.NET or mono) through P/Invoke: reads one dataset of doubles from an
// Azure blob through the Blob VFD, or from an HSDS domain through the REST VOL.
//
//   mcs -out:H5BlobExample.exe H5BlobExample.cs
//   LD_LIBRARY_PATH=<prefix>/lib:<hdf5>/lib HDF5_PLUGIN_PATH=<prefix>/lib/h5blob/plugins \
//     mono H5BlobExample.exe blob <url> <dataset> [NAME=VALUE ...]
//     mono H5BlobExample.exe rest <domain> <dataset> [NAME=VALUE ...]
//
// NAME=VALUE pairs are process-wide settings given to h5blob_config_set under the names
// of their environment variables (AZURE_STORAGE_CONNECTION_STRING, HS_ENDPOINT,
// HS_USERNAME, ...): no struct layouts cross the boundary. Prints the dataset's size, sum
// and first values; exits 1 with HDF5's error stack on stderr when something fails.
using System;
using System.Runtime.InteropServices;

static class Native
{
    const string Hdf5 = "libhdf5.so";
    const string H5Blob = "libh5blob.so";

    // HDF5's core calls. hid_t is int64_t, herr_t int, hsize_t uint64_t.
    [DllImport(Hdf5)] public static extern int H5open();
    [DllImport(Hdf5)] public static extern long H5Pcreate(long cls);
    [DllImport(Hdf5)] public static extern int H5Pclose(long id);
    [DllImport(Hdf5)] public static extern long H5Fopen(string name, uint flags, long fapl);
    [DllImport(Hdf5)] public static extern int H5Fclose(long id);
    [DllImport(Hdf5)] public static extern long H5Dopen2(long loc, string name, long dapl);
    [DllImport(Hdf5)] public static extern int H5Dclose(long id);
    [DllImport(Hdf5)] public static extern long H5Dget_space(long dset);
    [DllImport(Hdf5)] public static extern int H5Sclose(long id);
    [DllImport(Hdf5)] public static extern long H5Sget_simple_extent_npoints(long space);
    [DllImport(Hdf5)] public static extern int H5Dread(long dset, long memType, long memSpace,
                                                       long fileSpace, long dxpl, double[] buf);
    [DllImport(Hdf5)] public static extern int H5Eprint2(long stack, IntPtr stream);

    // h5blob's (include/h5blob.h).
    [DllImport(H5Blob)] public static extern IntPtr h5blob_version();
    [DllImport(H5Blob)] public static extern int h5blob_config_set(string name, string value);
    [DllImport(H5Blob)] public static extern int H5Pset_fapl_blob(long fapl, IntPtr settings);
    [DllImport(H5Blob)] public static extern int H5rest_init();
    [DllImport(H5Blob)] public static extern int H5rest_term();
    [DllImport(H5Blob)] public static extern int H5Pset_fapl_rest_vol(long fapl);

    // HDF5's predefined ids (H5P_FILE_ACCESS, H5T_NATIVE_DOUBLE) are global variables,
    // set by H5open: read them through dlsym, as HDF.PInvoke does.
    [DllImport("libdl.so.2")] static extern IntPtr dlopen(string file, int mode);
    [DllImport("libdl.so.2")] static extern IntPtr dlsym(IntPtr handle, string name);

    public static long Global(string name)
    {
        IntPtr lib = dlopen(Hdf5, 2 /* RTLD_NOW */);
        IntPtr p = lib == IntPtr.Zero ? IntPtr.Zero : dlsym(lib, name);
        if (p == IntPtr.Zero) throw new Exception("HDF5 has no symbol " + name);
        return Marshal.ReadInt64(p);
    }
}

static class H5BlobExample
{
    const long H5P_DEFAULT = 0, H5S_ALL = 0, H5E_DEFAULT = 0;
    const uint H5F_ACC_RDONLY = 0;

    static void Check(long status, string what)
    {
        if (status < 0) throw new Exception(what + " failed");
    }

    static int Main(string[] args)
    {
        if (args.Length < 3 || (args[0] != "blob" && args[0] != "rest"))
        {
            Console.Error.WriteLine("usage: H5BlobExample.exe blob|rest <url-or-domain> <dataset> [NAME=VALUE ...]");
            return 2;
        }
        long fapl = -1, file = -1, dset = -1, space = -1;
        try
        {
            Check(Native.H5open(), "H5open");
            Console.WriteLine("h5blob " + Marshal.PtrToStringAnsi(Native.h5blob_version()));
            for (int i = 3; i < args.Length; i++)
            {
                int eq = args[i].IndexOf('=');
                if (eq <= 0) throw new Exception(args[i] + ": expected NAME=VALUE");
                Check(Native.h5blob_config_set(args[i].Substring(0, eq), args[i].Substring(eq + 1)),
                      "h5blob_config_set");
            }
            fapl = Native.H5Pcreate(Native.Global("H5P_CLS_FILE_ACCESS_ID_g"));
            Check(fapl, "H5Pcreate");
            if (args[0] == "blob")
                Check(Native.H5Pset_fapl_blob(fapl, IntPtr.Zero), "H5Pset_fapl_blob");
            else
            {
                Check(Native.H5rest_init(), "H5rest_init");
                Check(Native.H5Pset_fapl_rest_vol(fapl), "H5Pset_fapl_rest_vol");
            }
            file = Native.H5Fopen(args[1], H5F_ACC_RDONLY, fapl);
            Check(file, "H5Fopen");
            dset = Native.H5Dopen2(file, args[2], H5P_DEFAULT);
            Check(dset, "H5Dopen2");
            space = Native.H5Dget_space(dset);
            long n = Native.H5Sget_simple_extent_npoints(space);
            Check(n, "H5Sget_simple_extent_npoints");
            var values = new double[n];
            Check(Native.H5Dread(dset, Native.Global("H5T_NATIVE_DOUBLE_g"), H5S_ALL, H5S_ALL,
                                 H5P_DEFAULT, values), "H5Dread");
            double sum = 0;
            foreach (double v in values) sum += v;
            Console.Write("{0}: {1} values, sum {2:R}, first", args[2], n, sum);
            for (int i = 0; i < n && i < 3; i++) Console.Write(" {0:R}", values[i]);
            Console.WriteLine();
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e.Message);
            Native.H5Eprint2(H5E_DEFAULT, IntPtr.Zero); // NULL stream: stderr
            return 1;
        }
        finally
        {
            if (space >= 0) Native.H5Sclose(space);
            if (dset >= 0) Native.H5Dclose(dset);
            if (file >= 0) Native.H5Fclose(file);
            if (fapl >= 0) Native.H5Pclose(fapl);
            if (args.Length > 0 && args[0] == "rest") Native.H5rest_term();
        }
    }
}
